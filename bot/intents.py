"""What kind of message this is, apart from its medical topic.

Small talk and "tell me more" must match the whole message, so "hi, what are IVIG headaches
like?" is still a question. Follow-up and personal-decision cues can appear anywhere.
"""
from __future__ import annotations

import re

SMALL_TALK = {
    "greeting": r"(hi|hello|hey|hiya|howdy|greetings|good (morning|afternoon|evening|day))( there)?( bot)?",
    "thanks": r"((ok|okay|great|thanks|cool)\s)?(thanks?( you)?( so much| very much| a lot)?|thx|ty|cheers|"
              r"that helps|that helped|that was helpful|much appreciated)",
    "goodbye": r"(bye|goodbye|bye bye|see you|see ya|good night|cya|that s all|thats all|that is all)( for now)?",
    "identity": r"(who|what) (are|r) (you|u)|what is this( chat| bot)?|whats your name|what is your name|who am i talking to",
    "human": r"(are|r) (you|u) (a |an )?(real )?(doctor|nurse|human|person|people|robot|bot|ai|clinician|machine|computer)"
             r"|is this (a )?(real )?(person|human|doctor|nurse|bot)|am i (talking|chatting) (to|with) a (real )?(person|human|bot)",
    "help": r"help|help me|what can (you|u) do|what do (you|u) do|how does this work|what can i ask( you)?|"
            r"how do i use this|menu|options|what do you know( about)?",
}
SMALL_TALK_PATTERNS = {kind: re.compile(rf"(?:{pattern})") for kind, pattern in SMALL_TALK.items()}

MORE = re.compile(
    r"(tell me )?(some )?more( please| info| information| details)?|anything else|what else|go on|continue|"
    r"(show|give) me more|keep going|and\??|next"
)

# A follow-up leans on the previous question: it points back at it ("they", "that") or leaves
# out what it is about ("what about fibromyalgia?", "for how long?"). "it" alone is not a
# cue: patients use it for the treatment itself ("how much does it cost?").
FOLLOW_UP = re.compile(
    r"^(what|how) about\b|^and\b|^also\b|^(for )?how long\b|^how often\b|^is there\b|^are there\b|^any\b|^what if\b|"
    r"^why\b|^how come\b|^really\b|^but\b|^then\b|^so\b|"
    r"\b(they|them|those|these|that|this|their)\b"
)

PERSONAL = re.compile(
    r"\b(should|shall) (i|we|my)\b|\b(can|could|may|must) i\b|\bdo i (need|have to)\b|\bhow (much|often|long) (should|do|must) i\b"
    r"|\b(is it|it s|its) (safe|ok|okay|alright|fine|dangerous) (for me|to|if i)\b|\bam i (allowed|ok|okay|safe)\b"
    r"|\bpregnan|\bbreast ?feed|\bnursing my\b|\bmy (dose|dosage|medication|medicine|treatment)\b"
    r"|\b(stop|skip|quit|miss) (my|taking)\b"
)


def normalise(message: str) -> str:
    """Lower case, apostrophes dropped, punctuation to spaces, whitespace collapsed."""
    text = message.lower().replace("\u2019", "").replace("\u2018", "").replace("'", "")
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text).split())


def small_talk(message: str) -> str | None:
    text = normalise(message)
    for kind, pattern in SMALL_TALK_PATTERNS.items():
        if pattern.fullmatch(text):
            return kind
    return None


def wants_more(message: str) -> bool:
    return bool(MORE.fullmatch(normalise(message)))


def is_follow_up(message: str) -> bool:
    return bool(FOLLOW_UP.search(normalise(message)))


def is_personal(message: str) -> bool:
    return bool(PERSONAL.search(normalise(message)))
