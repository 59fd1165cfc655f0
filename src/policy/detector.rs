//! Finds plaintext identity data in request bodies and query strings (Art. 7 §2).
