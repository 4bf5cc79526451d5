//! CSV claims feeds with a documented column mapping → claim lines. (being written)
