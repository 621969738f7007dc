# Downgrade tracker records (issue 5): the on-disk handshake-failure record
# read back from the spool at start-up, and the "same client" rule.
mxgate_fuzz_target(downgrade_record SOURCES
  tlspolicy/downgrade_record.cpp)
