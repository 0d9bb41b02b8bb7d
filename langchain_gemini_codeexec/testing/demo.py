"""Demo data: one plausible code-execution answer, for examples and first tests.

`SUM_OF_PRIMES_PROMPT` and `sum_of_primes_chunks()` (the SSE chunks of an answer to it,
written in the shape of Gemini 2.5 Flash's answers) are what the quick start replays offline.
"""

from __future__ import annotations

from ._replies import JSON, code, response, result, stream_chunks, text, usage

__all__ = ["SUM_OF_PRIMES_PROMPT", "sum_of_primes_chunks"]

SUM_OF_PRIMES_PROMPT = (
    "What is the sum of the first 50 prime numbers? Generate and run code for the "
    "calculation, and make sure you get all 50."
)

_PRIMES_CODE = """\
def is_prime(n):
    if n < 2:
        return False
    for i in range(2, int(n**0.5) + 1):
        if n % i == 0:
            return False
    return True

primes = []
num = 2
while len(primes) < 50:
    if is_prime(num):
        primes.append(num)
    num += 1

print(f"primes={primes}")
print(f"sum={sum(primes)}")
"""


def _first_primes(count: int) -> list[int]:
    primes: list[int] = []
    num = 2
    while len(primes) < count:
        if all(num % p for p in primes if p * p <= num):
            primes.append(num)
        num += 1
    return primes


def sum_of_primes_chunks() -> list[JSON]:
    """SSE chunks of a scripted answer to :data:`SUM_OF_PRIMES_PROMPT` with code execution.

    Scripted, not recorded: written in the shape of Gemini 2.5 Flash's answers (text, code,
    its result, the answer), with the primes computed here.
    """
    primes = _first_primes(50)
    whole = response(
        text(
            "Okay, I will write and run Python code to find the first 50 prime numbers "
            "and add them up.\n\n"
        ),
        code(_PRIMES_CODE),
        result(f"primes={primes}\nsum={sum(primes)}\n"),
        text(
            f"The first 50 prime numbers run from 2 to {primes[-1]}, and their sum is "
            f"**{sum(primes)}**."
        ),
        usage=usage(prompt=27, candidates=196, tool_use_prompt=402),
        model_version="gemini-2.5-flash",
        response_id="fXyMaPrimeSum50",
    )
    return stream_chunks(whole, text_pieces=2)
