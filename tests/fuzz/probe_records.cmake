# `mxgate probe --domain` parsers: MTA-STS TXT and policy, the
# HTTP response of the policy fetch (relay/client/probe_records.cpp; pure).
mxgate_fuzz_target(probe_records SOURCES relay/client/probe_records.cpp)
