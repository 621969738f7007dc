# SMTP AUTH client side (auth/): the AUTH command line, SASL response
# lines (strict base64, "*" cancel) and the PLAIN message.
mxgate_fuzz_target(sasl_response SOURCES
  auth/base64.cpp
  auth/sasl_response.cpp
  relay/smtp/line_framer.cpp
  relay/smtp/command_parser.cpp
  relay/smtp/path_parser.cpp
  relay/smtp/esmtp_params.cpp
  relay/smtp/address_literal.cpp)
