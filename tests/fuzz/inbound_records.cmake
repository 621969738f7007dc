# Inbound TLS observability (issue 5): the _mta-sts TXT record parser of the
# sender-posture check and `mxgate report --since` (RFC 3339 / durations).
mxgate_fuzz_target(inbound_records SOURCES
  tlspolicy/mta_sts_record.cpp
  relay/report/report_format.cpp
  relay/core/event_sink.cpp)
