"""Password hashing: argon2id, the one place a password becomes what we store.

Used by the sync users file (a user's password) and by anything that later
signs a person in; never stores or logs the password itself.
"""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str, stored: str | None) -> str:
    """argon2id; the stored hash is kept when the password still matches it
    (re-sending an unchanged users file rewrites no hash)."""
    if stored:
        try:
            if _hasher.verify(stored, password):
                return stored
        except (VerificationError, InvalidHashError):
            pass
    return _hasher.hash(password)


def password_matches(password: str, stored: str | None) -> bool:
    """True when `password` is the one `stored` was made from; a missing or unreadable hash never matches."""
    if not stored:
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
