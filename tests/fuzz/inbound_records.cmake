# Inbound TLS observability (issue 5): the small _mta-sts TXT record reader
# (tlspolicy/mta_sts_record.cpp; the sender posture now uses the outbound
# parser) and `mxgate report --since` (RFC 3339 / durations).
mxgate_fuzz_target(inbound_records SOURCES
  tlspolicy/mta_sts_record.cpp
  relay/report/report_format.cpp
  relay/core/event_sink.cpp)
