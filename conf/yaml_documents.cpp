// conf/yaml_documents.cpp — reads the one YAML document of a configuration
// file, and tells whether the text holds a second one.
//
// XXX yaml-cpp 0.7's YAML::LoadAll() loops forever, allocating, on some
// malformed input (a lone "," is enough: HandleNextDocument() keeps
// returning true without consuming it; found by tests/fuzz/config_fuzz.cpp).
// So documents are counted here with a bounded loop of our own, and the
// first one is loaded with YAML::Load().
#include <yaml-cpp/eventhandler.h>

#include <sstream>

#include "conf/detail.hpp"

namespace mxgate::conf::detail {
namespace {

// Records where each document starts; ignores everything else.
class DocumentStarts : public YAML::EventHandler {
public:
    std::vector<YAML::Mark> starts;
    void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

}  // namespace

YAML::Node load_single_document(const std::string& text, std::optional<YAML::Mark>& second) {
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentStarts starts;
    // Two documents are enough to know the file is wrong; never ask for more.
    for (int i = 0; i < 2 && parser.HandleNextDocument(starts); ++i) {
    }
    second.reset();
    if (starts.starts.size() > 1) second = starts.starts[1];
    return YAML::Load(text);
}

}  // namespace mxgate::conf::detail
