# SMTP server message reader (relay/smtp/data_reader): DATA and BDAT modes.
mxgate_fuzz_target(data_reader SOURCES
  relay/smtp/data_reader.cpp
  relay/smtp/replies.cpp
  relay/smtp/command_parser.cpp
  relay/smtp/path_parser.cpp
  relay/smtp/esmtp_params.cpp
  relay/smtp/address_literal.cpp
  relay/core/reply.cpp)
