/* A library that exports a function no installed header declares: exports.sh must name it
 * (test_layers_exports_bad). */
__attribute__((visibility("default"))) int plume_test_undeclared(void);

int plume_test_undeclared(void) { return 1; }
