#include "dmarc/verdicts.hpp"

namespace mxgate::dmarc {

const char* to_string(SpfResult r) {
    switch (r) {
        case SpfResult::none: return "none";
        case SpfResult::neutral: return "neutral";
        case SpfResult::pass: return "pass";
        case SpfResult::fail: return "fail";
        case SpfResult::softfail: return "softfail";
        case SpfResult::temperror: return "temperror";
        case SpfResult::permerror: return "permerror";
    }
    return "none";
}

const char* to_string(DkimResult r) {
    switch (r) {
        case DkimResult::none: return "none";
        case DkimResult::pass: return "pass";
        case DkimResult::fail: return "fail";
        case DkimResult::neutral: return "neutral";
        case DkimResult::policy: return "policy";
        case DkimResult::temperror: return "temperror";
        case DkimResult::permerror: return "permerror";
    }
    return "none";
}

}  // namespace mxgate::dmarc
