// tlspolicy/mta_sts_record.hpp — parse an _mta-sts TXT record (RFC 8461
// §3.1). Pure, no Asio: the fuzz build compiles it alone.
#pragma once

#include <optional>
#include <string>

namespace mxgate::tlspolicy {

// "v=STSv1; id=20160831085700Z;" -> the id. nullopt unless v=STSv1 is the
// first field and an id of 1-32 letters or digits is present.
std::optional<std::string> mta_sts_record_id(const std::string& txt);

}  // namespace mxgate::tlspolicy
