"""Everything the bot says in its own voice, in one place for clinical review.

Medical content never appears here: it only ever comes from the documents' passages. The
only variable parts are counts and the patient's own words echoed back.
"""
from __future__ import annotations

ANSWER = "Here is what the clinic's documents say. These are excerpts, shown word for word."
ANSWER_CORRECTED = "I read {changes}. " + ANSWER
FOLLOW_UP = "Continuing from your last question, here is what the clinic's documents say."
NO_MATCH = (
    "I'm sorry, I couldn't find anything about that in the clinic's documents. I can only share "
    "what those documents say, so for this please ask your care team. You could also try asking "
    "in other words, or pick one of the topics below."
)
EMPTY_QUESTION = "I didn't catch a question there. What would you like to know?"

MORE = "Here is more from the clinic's documents on the same topic."
NO_MORE = "That's everything I found in the clinic's documents on this topic. Your care team can tell you more."
MORE_WITHOUT_TOPIC = "Ask me a question first, and then I can show you more on the same topic."

PERSONAL = (
    "That is a decision to make with your own doctor, who knows your health and your treatment. "
    "I can't advise you personally, but here is what the clinic's documents say."
)
PERSONAL_NO_MATCH = (
    "That is a decision to make with your own doctor, who knows your health and your treatment. "
    "I can't advise you personally, and the clinic's documents don't cover it."
)

URGENT_TITLE = "This could be an emergency"
URGENT_MESSAGE = (
    "Stop and get help now. If you have these symptoms now, call your local emergency number "
    "or contact your care team straight away. If you are receiving an infusion, tell the nurse "
    "immediately. Do not wait for a reply here."
)
URGENT_SELF_HARM_MESSAGE = (
    "You deserve support right now. If you might act on thoughts of harming yourself, call your "
    "local emergency number now, or contact a crisis line or your care team straight away. "
    "You don't have to go through this alone."
)
URGENT_REPLY = "Please get help first. Below is what the clinic's documents say, for information only."
URGENT_REPLY_NO_PASSAGES = "Please get help first."

SMALL_TALK = {
    "greeting": "Hello! I'm an automated assistant. I can share excerpts from the clinic's patient documents. What would you like to know?",
    "thanks": "You're welcome. Is there anything else you'd like to know?",
    "goodbye": "Goodbye, and take care. If anything worries you, please contact your care team.",
    "identity": (
        "I'm an automated assistant, not a person and not a clinician. I answer by showing "
        "excerpts from the clinic's patient documents, with where each one comes from."
    ),
    "human": (
        "No, I'm an automated assistant, not a doctor, nurse or real person. I can only show what "
        "the clinic's patient documents say. For advice about you, please contact your care team."
    ),
    "help": (
        "Ask me a question in your own words, like you would ask a nurse. I'll show you the parts "
        "of the clinic's patient documents that answer it, and where each one comes from. Say "
        "\"tell me more\" for more on the same topic. Here are some things you can ask about:"
    ),
}
