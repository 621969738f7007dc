# MTA-STS policy parser, MX pattern matching and cache records (pure).
mxgate_fuzz_target(mta_sts_policy SOURCES tlspolicy/mta_sts.cpp)
