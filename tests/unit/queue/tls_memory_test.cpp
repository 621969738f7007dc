// tests/unit/queue/tls_memory_test.cpp — best TLS seen per destination
// (relay/queue/tls_memory.cpp): upgrades are remembered across instances
// (the spool's StateStore), weaker deliveries are reported, never stored.
#include <catch2/catch.hpp>
#include <filesystem>

#include "relay/queue/tls_memory.hpp"

using namespace mxgate;
using queue::TlsGrade;

TEST_CASE("best TLS memory reports downgrades and keeps the best", "[queue][tls-memory]") {
    char tmpl[] = "/tmp/mxgate-tlsmem-XXXXXX";
    const std::filesystem::path dir = mkdtemp(tmpl);
    {
        queue::TlsMemory m(core::StateStore(dir, "tls-seen"));
        CHECK_FALSE(m.best("a.example"));
        CHECK_FALSE(m.observe("a.example", TlsGrade::plaintext));
        CHECK_FALSE(m.best("a.example"));  // plaintext is never stored
        CHECK_FALSE(m.observe("a.example", TlsGrade::encrypted));
        CHECK_FALSE(m.observe("a.example", TlsGrade::verified));
        CHECK(m.best("a.example") == TlsGrade::verified);
    }
    queue::TlsMemory m(core::StateStore(dir, "tls-seen"));  // survives a restart
    CHECK(m.best("a.example") == TlsGrade::verified);
    CHECK(m.observe("a.example", TlsGrade::plaintext) == TlsGrade::verified);
    CHECK(m.observe("a.example", TlsGrade::encrypted) == TlsGrade::verified);
    CHECK(m.best("a.example") == TlsGrade::verified);  // the downgrade did not erase it
    CHECK_FALSE(m.observe("b.example", TlsGrade::encrypted));
    CHECK(m.observe("b.example", TlsGrade::plaintext) == TlsGrade::encrypted);
    std::filesystem::remove_all(dir);
}
