//! Use cases that the handlers and the import worker share, below `http`. Most of the
//! catalog's use cases still live in its handlers; new shared ones start here.

pub mod review;
