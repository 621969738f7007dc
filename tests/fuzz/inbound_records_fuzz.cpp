// tests/fuzz/inbound_records_fuzz.cpp — libFuzzer target for the text
// parsers of issue 5: an _mta-sts TXT record (attacker-controlled DNS text)
// and a `mxgate report --since` argument.
//
// Checked properties (abort on violation):
//  - an MTA-STS id, when found, is 1-32 ASCII letters/digits and the record
//    starts (after blanks) with "v=STSv1";
//  - parse_since either fails with an error text or returns exactly the
//    journal's timestamp form YYYY-MM-DDTHH:MM:SS.000Z (24 characters), so
//    string comparison against journal lines stays a time comparison.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "relay/report/report.hpp"
#include "tlspolicy/mta_sts_record.hpp"

using namespace mxgate;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

bool digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);

    if (const auto id = tlspolicy::mta_sts_record_id(text)) {
        check(!id->empty() && id->size() <= 32);
        for (char c : *id) check(digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
        const size_t start = text.find_first_not_of(" \t");
        check(start != std::string::npos && text.compare(start, 1, "v") == 0);
    }

    std::string error;
    const auto since = report::parse_since(text, 1'795'000'000, error);
    if (!since) {
        check(!error.empty());
    } else {
        const std::string& s = *since;
        check(s.size() == 24);
        const char* shape = "dddd-dd-ddTdd:dd:dd.000Z";
        for (size_t i = 0; i < 24; ++i) check(shape[i] == 'd' ? digit(s[i]) : s[i] == shape[i]);
    }
    return 0;
}
