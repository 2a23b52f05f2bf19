"""Pure, deterministic domain code: types, money, policy. No I/O; safe inside workflows."""
