# SMTP server command side (relay/smtp): line framing, command and path
# parsing, ESMTP parameters, open-relay classification and recipient policy.
mxgate_fuzz_target(smtp_command SOURCES
  relay/smtp/line_framer.cpp
  relay/smtp/command_parser.cpp
  relay/smtp/path_parser.cpp
  relay/smtp/esmtp_params.cpp
  relay/smtp/address_literal.cpp
  relay/smtp/address_class.cpp
  relay/smtp/recipient_policy.cpp
  relay/smtp/replies.cpp
  relay/smtp/data_reader.cpp
  relay/core/reply.cpp)
