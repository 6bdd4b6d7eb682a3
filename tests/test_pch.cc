// The translation unit that compiles the tests' precompiled header (shixin_test_pch in the
// top-level CMakeLists.txt); it has no code of its own.
