# Spool records (envelope, delivery state, message trailer) and DSN
# rendering of remote text: pure code, no I/O.
mxgate_fuzz_target(envelope SOURCES
  relay/spool/record.cpp
  relay/spool/envelope_codec.cpp
  relay/spool/state_codec.cpp
  relay/spool/trailer.cpp
  relay/spool/dsn.cpp
  relay/spool/dsn_text.cpp)
