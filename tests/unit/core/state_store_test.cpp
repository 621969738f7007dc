#include <catch2/catch.hpp>
#include <filesystem>
#include <map>

#include "relay/core/event_journal.hpp"
#include "relay/core/state_store.hpp"

namespace fs = std::filesystem;
using mxgate::core::StateStore;

namespace {
fs::path temp_dir(const char* tag) {
    fs::path p = fs::temp_directory_path() / (std::string("mxgate-state-") + tag + "-" + std::to_string(::getpid()));
    fs::remove_all(p);
    fs::create_directories(p);
    return p;
}
}  // namespace

TEST_CASE("state store keeps records across instances") {
    const fs::path dir = temp_dir("persist");
    {
        StateStore s(dir, "greylist");
        REQUIRE(s.put("192.0.2.0/24|a@b|c@d", "123", true));
        REQUIRE(s.put("x", "1"));
        REQUIRE(s.put("x", "2"));
    }
    StateStore s(dir, "greylist");
    CHECK(s.get("192.0.2.0/24|a@b|c@d") == "123");
    CHECK(s.get("x") == "2");
    CHECK_FALSE(s.get("missing"));
    s.erase("x");
    CHECK_FALSE(s.get("x"));
    std::map<std::string, std::string> all;
    s.for_each([&](const std::string& k, const std::string& v) { all[k] = v; });
    CHECK(all.size() == 1);
    CHECK(all.begin()->first == "192.0.2.0/24|a@b|c@d");
    fs::remove_all(dir);
}

TEST_CASE("state store keys cannot escape their directory") {
    const fs::path dir = temp_dir("escape");
    StateStore s(dir, "ns");
    for (const std::string& key : std::vector<std::string>{"../../etc/passwd", "..", ".", "", "a/b", std::string("nul\0x", 5)}) {
        REQUIRE(s.put(key, "v"));
        CHECK(s.get(key) == "v");
        const std::string name = StateStore::encode_key(key);
        CHECK(name.find('/') == std::string::npos);
        CHECK(name != "..");
        CHECK(name != ".");
        CHECK(StateStore::decode_key(name) == key);
    }
    CHECK_FALSE(fs::exists(dir / "etc"));
    CHECK_FALSE(StateStore::decode_key("%4"));
    CHECK_FALSE(StateStore::decode_key("a/b"));
    fs::remove_all(dir);
}

TEST_CASE("event journal records report families and reads them back") {
    const fs::path dir = temp_dir("journal");
    {
        mxgate::core::EventJournal j(dir);
        j.emit(mxgate::core::Event("session.open").set(mxgate::core::Field::client, "192.0.2.1"));
        j.emit(mxgate::core::Event("tls.handshake_failed")
                   .set(mxgate::core::Field::client, "192.0.2.1")
                   .set(mxgate::core::Field::error, "no \"shared\" cipher"));
        j.emit(mxgate::core::Event("auth.failure")
                   .set(mxgate::core::Field::user, "alice")
                   .set(mxgate::core::Field::valid, false)
                   .set(mxgate::core::Field::recipients, std::vector<std::string>{"a@x", "b@y"})
                   .set_null(mxgate::core::Field::network));
    }
    const auto recs = mxgate::core::read_journal(dir);
    REQUIRE(recs.size() == 2);
    CHECK(recs[0].at("event") == "tls.handshake_failed");
    CHECK(recs[0].at("error") == "no \"shared\" cipher");
    CHECK(recs[1].at("valid") == "false");
    CHECK(recs[1].at("recipients") == "a@x,b@y");
    CHECK(recs[1].at("network").empty());
    CHECK(mxgate::core::read_journal(dir, "9999").empty());
    CHECK(mxgate::core::parse_journal_line("{\"event\": \"x\", broken").empty());
    fs::remove_all(dir);
}
