# DNS RDATA parsers and the AD-probe message codec (pure, no Asio).
mxgate_fuzz_target(dns_rdata SOURCES relay/core/dns_rdata.cpp relay/core/dns_message.cpp)
