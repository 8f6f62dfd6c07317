// Entry point: everything lives in the library; see cli/app.hpp.
#include "cli/app.hpp"

int main(int argc, char** argv) { return lug::cli::run(argc, argv); }
