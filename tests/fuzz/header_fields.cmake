# RFC 5322 header block splitter and the SPEC §6 From: rules (dmarc/, pure code).
mxgate_fuzz_target(header_fields SOURCES
  dmarc/header_fields.cpp
  dmarc/address_parser.cpp
  dmarc/author.cpp)
