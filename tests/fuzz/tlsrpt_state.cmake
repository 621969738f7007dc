# TLS-RPT day results as stored in the spool (tlsrpt_aggregate.hpp; pure).
mxgate_fuzz_target(tlsrpt_state SOURCES tlspolicy/tlsrpt_aggregate.cpp tlspolicy/tlsrpt_result.cpp tlspolicy/mta_sts.cpp)
