// tests/fuzz/spf_precheck_fuzz.cpp — libFuzzer target for the SPF pre-check
// (dmarc/spf_precheck.cpp). The input goes through every pre-check; a
// record the pre-check accepts must honour the documented bounds, and is
// then compiled by Debian's libspf2 itself (the library lacking the
// CVE-2023-42118 fix): under ASan a record that passes the pre-check and
// still overflows libspf2's buffers is reported.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" {
#include <arpa/inet.h>
#include <netinet/in.h>
#include <spf2/spf.h>
}

#include "dmarc/spf_precheck.hpp"

using namespace mxgate::dmarc;

namespace {

void require(bool ok) {
    if (!ok) __builtin_trap();
}

void quiet(const char*, int, const char*) {}

SPF_server_t* server() {
    static SPF_server_t* s = [] {
        SPF_warning_handler = quiet;
        SPF_info_handler = quiet;
        SPF_debug_handler = quiet;
        return SPF_server_new(SPF_DNS_ZONE, 0);  // never asked: only compiles
    }();
    return s;
}

// The bounds precheck_spf_record promises for every term.
void check_terms(std::string_view r) {
    require(r.size() <= kSpfMaxRecord);
    size_t terms = 0;
    size_t i = 6;
    while (i < r.size()) {
        while (i < r.size() && r[i] == ' ') ++i;
        if (i >= r.size()) break;
        size_t end = r.find(' ', i);
        if (end == std::string_view::npos) end = r.size();
        const std::string_view term = r.substr(i, end - i);
        require(term.size() <= kSpfMaxTerm);
        size_t percents = 0;
        for (char c : term) percents += c == '%';
        // "%%" counts once in the pre-check: at most 2 '%' per macro.
        require(percents <= 2 * static_cast<size_t>(kSpfMaxMacrosPerTerm));
        for (char c : term) require(static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f);
        ++terms;
        i = end;
    }
    require(terms <= kSpfMaxTerms);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    // Also try the input as the value of a record, so mutations reach terms.
    for (const std::string& record : {input, "v=spf1 " + input}) {
        if (!precheck_spf_record(record).ok) continue;
        require(is_spf_record(record));
        check_terms(record);
        SPF_response_t* resp = SPF_response_new(nullptr);
        SPF_record_t* rec = nullptr;
        SPF_record_compile(server(), resp, &rec, record.c_str());
        if (rec) SPF_record_free(rec);
        SPF_response_free(resp);
    }
    if (precheck_explanation(input).ok) {
        require(input.size() <= kSpfMaxExplanation);
        SPF_response_t* resp = SPF_response_new(nullptr);
        SPF_macro_t* macro = nullptr;
        SPF_record_compile_macro(server(), resp, &macro, input.c_str());
        if (macro) SPF_macro_free(macro);
        SPF_response_free(resp);
    }
    if (precheck_domain(input).ok) require(input.size() <= 254);
    if (precheck_local_part(input).ok) require(input.size() <= 64 && !input.empty());
    return 0;
}
