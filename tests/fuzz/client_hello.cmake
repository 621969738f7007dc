# ClientHello field extraction (issue 5): supported_versions, cipher suites
# and server_name as the inbound ClientHello callback reads them.
mxgate_fuzz_target(client_hello SOURCES
  tlspolicy/client_hello_fields.cpp)
