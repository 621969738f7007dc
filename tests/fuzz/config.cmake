# The configuration loader (conf/): pure C++ and yaml-cpp, no Asio.
mxgate_fuzz_target(config
  SOURCES
    conf/config.cpp
    conf/diagnostics.cpp
    conf/features.cpp
    conf/load_domains.cpp
    conf/load_listeners.cpp
    conf/load_policy.cpp
    conf/load_service.cpp
    conf/load_tls.cpp
    conf/loader.cpp
    conf/names.cpp
    conf/nodes.cpp
    conf/recipients_file.cpp
    conf/scalars.cpp
    conf/system_hostname.cpp
    conf/yaml_documents.cpp
  LIBS yaml-cpp::yaml-cpp)
# In these builds a bug in a reader (an exception it should have prevented)
# aborts instead of becoming an "internal error" diagnostic (conf/loader.cpp).
foreach(_t fuzz_config replay_config)
  if(TARGET ${_t})
    target_compile_definitions(${_t} PRIVATE FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
  endif()
endforeach()
