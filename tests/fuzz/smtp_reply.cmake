# SMTP client reply parser, EHLO capabilities and dot-stuffing (relay/client).
mxgate_fuzz_target(smtp_reply SOURCES
  relay/client/reply_parser.cpp
  relay/client/ehlo_capabilities.cpp
  relay/client/smtp_text.cpp
  relay/core/reply.cpp)
