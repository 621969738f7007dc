# SPF record pre-check (pure); every record it accepts is compiled by the
# real libspf2, so a pre-check that lets a crashing record through is found.
find_library(SPF2_FUZZ_LIB spf2 REQUIRED)
mxgate_fuzz_target(spf_precheck SOURCES dmarc/spf_precheck.cpp LIBS ${SPF2_FUZZ_LIB})
