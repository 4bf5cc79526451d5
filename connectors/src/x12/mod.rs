//! X12 837P/837I/835 (4010 and 5010) → claim lines. (being written)
