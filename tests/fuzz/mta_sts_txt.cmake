# MTA-STS TXT record parser and record selection (pure).
mxgate_fuzz_target(mta_sts_txt SOURCES tlspolicy/mta_sts.cpp)
