# DMARC reporting parsers (pure): rua URIs and size limits, the external
# destination record, and the recorded-row line format with the XML built
# from it.
mxgate_fuzz_target(dmarc_rua SOURCES dmarc/report_uri.cpp dmarc/aggregate_report.cpp)
