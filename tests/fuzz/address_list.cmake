# RFC 5322 address lists and RFC 2047 display names (dmarc/address_parser, pure code).
mxgate_fuzz_target(address_list SOURCES dmarc/address_parser.cpp)
