// tests/unit/conf/helpers.hpp — loading YAML snippets in tests: diagnostics
// as text, a minimal valid base, and scratch files for file-reading keys.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "conf/conf.hpp"

namespace mxgate::conf::test {

// The smallest configuration that loads: no certificate files needed.
inline const std::string kBase =
    "hostname: mx.example.org\n"
    "tls: {self_signed: true}\n"
    "domains:\n"
    "  - {name: example.org, recipients: ['@example.org'], downstream: {address: 'home.example.org:25'}}\n";

// The same without a `tls:` section (no listener needs a certificate), for
// tests that write their own.
inline const std::string kBaseNoTls =
    "hostname: mx.example.org\n"
    "listeners: [{name: mx, address: '[::]:25', tls: none}]\n"
    "domains:\n"
    "  - {name: example.org, recipients: ['@example.org'], downstream: {address: 'home.example.org:25'}}\n";

inline std::vector<std::string> errors_of(const std::string& yaml) {
    std::vector<std::string> out;
    for (const Diagnostic& d : load_text(yaml, "t.yaml").errors) out.push_back(d.text());
    return out;
}

// Loads `yaml`, which must be valid; the errors are shown on failure.
inline std::shared_ptr<const Config> load_ok(const std::string& yaml) {
    LoadResult r = load_text(yaml, "t.yaml");
    for (const Diagnostic& d : r.errors) UNSCOPED_INFO(d.text());
    REQUIRE(r.errors.empty());
    REQUIRE(r.config != nullptr);
    return r.config;
}

// A scratch directory removed at the end of the test.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        path = std::filesystem::temp_directory_path() /
               ("mxgate-conf-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string write(const std::string& name, const std::string& content) const {
        const std::filesystem::path p = path / name;
        std::ofstream(p, std::ios::binary) << content;
        return p.string();
    }
    static int& counter() {
        static int n = 0;
        return n;
    }
};

}  // namespace mxgate::conf::test
