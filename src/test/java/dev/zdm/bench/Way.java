package dev.zdm.bench;

/** How an operation is done: as a person would type it, through zdm, or the least work that reaches the same end. */
enum Way {
    NAIVE("naive"),
    ZDM("zdm"),
    /** The least the change costs done by hand with the same end state, for the operations that have one. */
    REFERENCE("reference");

    final String label;

    Way(String label) {
        this.label = label;
    }
}
