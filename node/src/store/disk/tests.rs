//! Tests of the disk store: filled below.
