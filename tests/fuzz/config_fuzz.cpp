// libFuzzer target for the configuration loader (conf/): arbitrary bytes in
// as a YAML file, through load_text(). Besides crashes and sanitizer
// reports it checks the loader's own contract: a result is either a config
// or errors, never both or neither, and every diagnostic names the file.
// A reader that throws past its own type checks aborts in this build
// (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, set in config.cmake).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "conf/conf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const mxgate::conf::LoadResult r = mxgate::conf::load_text(text, "fuzz.yaml");
    if ((r.config == nullptr) == r.errors.empty()) std::abort();
    for (const mxgate::conf::Diagnostic& d : r.errors) {
        if (d.mark.file.empty() || d.message.empty()) std::abort();
        (void)d.text();
    }
    if (r.config) {
        // A loaded snapshot keeps the invariants the rest of mxgate relies on.
        if (r.config->listeners.empty() || r.config->domains.empty() || r.config->hostname.empty()) std::abort();
        for (const auto& l : r.config->listeners)
            if (l.address.port == 0) std::abort();
    }
    return 0;
}
