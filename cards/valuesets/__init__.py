"""Value set CSV files (clinical-rules §2), read by `cards.terminology`; this package ships them."""
