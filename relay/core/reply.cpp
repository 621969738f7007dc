#include "relay/core/reply.hpp"

namespace mxgate::core {

std::string Reply::format() const {
    std::string out;
    const std::string code_text = std::to_string(code);
    const size_t n = lines.empty() ? 1 : lines.size();
    for (size_t i = 0; i < n; ++i) {
        out += code_text;
        out += (i + 1 < n) ? '-' : ' ';
        if (!enhanced.empty()) {
            out += enhanced;
            out += ' ';
        }
        if (i < lines.size()) out += lines[i];
        out += "\r\n";
    }
    return out;
}

}  // namespace mxgate::core
