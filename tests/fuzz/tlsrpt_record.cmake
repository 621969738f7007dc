# TLS-RPT policy record parser (RFC 8460 §3; pure).
mxgate_fuzz_target(tlsrpt_record SOURCES tlspolicy/tlsrpt_record.cpp)
