"""Password hashing (argon2id) and the password rules shared by the web and the CLI.

New passwords are checked against common and breached passwords (NIST SP 800-63B,
OWASP ASVS 5.0 V6) with zxcvbn (PyPI `zxcvbn`, pinned), whose data ships in the package:
30,000 passwords from leaked password lists, 30,000 English words, names, and words from
TV and film. A plain list was the weaker choice: with the 15-character minimum almost
no list entry is long enough to matter (48 of Django's 19,640 common passwords and 31 of
zxcvbn's 30,000 have 15 characters or more; neither list holds "passwordpassword" or
"123456789012345"), while people reach 15 characters by repeating, chaining or padding
a common password. zxcvbn finds a password's pieces in its lists, also reversed, in
l33t spelling, as repeats, sequences, keyboard walks and dates, and estimates how many
guesses an attacker trying those first would need; below MIN_GUESSES the password counts
as found in the lists.
"""

from __future__ import annotations

import re
import threading

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 15
MAX_LENGTH = 128
# zxcvbn's "very unguessable" (score 4): about a day of offline guessing on GPUs, even
# against argon2id. "Password1234567!" needs 10^8 guesses, "fifteen chars!!" 10^11.
MIN_GUESSES_LOG10 = 10
# zxcvbn's time grows quickly with length (a 64-character random password: seconds), so
# long passwords are judged in pieces whose guesses multiply (their logarithms add); a
# piece that repeats earlier text counts for nothing.
PIECE = 24
TOO_COMMON = (
    "This password is on a list of common or breached passwords, or is built from one "
    "(for example by repeating it, adding digits, or using a keyboard row). Choose another: "
    "a few unrelated words work well."
)
# These words make a password for this application easy to guess.
APP_WORDS = ("rectrack", "oig", "inspector", "general", "recommendation", "dhs", "homeland", "security")
_zxcvbn_lock = threading.Lock()  # zxcvbn keeps the user's own words in a module global

# OWASP's argon2id minimum: 19 MiB of memory, two passes, one lane.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)
# Verified against when the account does not exist, so timing does not reveal it.
_DUMMY_HASH = _hasher.hash("rectrack-dummy-password-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def guesses_log10(password: str, user_words: tuple[str, ...] = ()) -> float:
    """log10 of the guesses zxcvbn expects an attacker to need, with `user_words` (the
    account's e-mail address and name) among the first it tries."""
    from zxcvbn import zxcvbn  # imported on first use: building its dictionaries takes 0.1 s

    words = [*APP_WORDS, *(w.lower() for w in user_words if w)]
    total = 0.0
    with _zxcvbn_lock:
        for start in range(0, len(password), PIECE):
            piece = password[start : start + PIECE]
            if password.find(piece) < start:  # said before: a repeat adds next to nothing
                continue
            total += zxcvbn(piece, user_inputs=words)["guesses_log10"]
    return total


def _user_words(email: str, name: str) -> tuple[str, ...]:
    """The e-mail address, its parts and the name's parts, as zxcvbn's user inputs."""
    return (email, *re.split(r"[^a-z0-9]+", f"{email} {name}".lower()))


def is_common(password: str, email: str = "", name: str = "") -> bool:
    """Whether a password is (built from) a common or breached password; see above."""
    return guesses_log10(password, _user_words(email, name)) < MIN_GUESSES_LOG10


def password_problems(password: str, email: str = "", name: str = "") -> list[str]:
    """Why a new password is not acceptable; empty when it is."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    if email and password.strip().lower() == email.strip().lower():
        problems.append("Do not use your e-mail address as your password.")
    elif not problems and is_common(password, email, name):
        problems.append(TOO_COMMON)
    return problems
