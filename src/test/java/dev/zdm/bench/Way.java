package dev.zdm.bench;

/** How an operation is done: as a person would type it, or through zdm. */
enum Way {
    NAIVE("naive"),
    ZDM("zdm");

    final String label;

    Way(String label) {
        this.label = label;
    }
}
