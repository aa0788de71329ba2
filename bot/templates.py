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

# Urgent notices, one per triage category (bot/data/triage.yaml). {emergency_number},
# {crisis_line} and {clinic_phone} are the clinic's settings (IVIG_BOT_EMERGENCY_NUMBER, ...).
CALL_NOW = "Call {emergency_number} now"
CARE_TEAM_TODAY = "Contact your care team today"
SEVERITY_LABEL = {"emergency": CALL_NOW, "care_team_today": CARE_TEAM_TODAY}
INFUSING = " If you are having an infusion now, tell the nurse immediately."
URGENT = {
    "self_harm": ("You deserve support right now",
                  "If you might act on thoughts of harming yourself, or you are in danger, call {emergency_number} now. "
                  "You can also call or text {crisis_line}, or contact {clinic_phone}. You don't have to go through this "
                  "alone, and talking to someone now can help."),
    "unresponsive": ("This could be an emergency",
                     "Someone who is unresponsive, not breathing normally, or turning blue or grey needs help now. Call "
                     "{emergency_number} now and follow the call handler's instructions. Do not wait for a reply here."),
    "airway_breathing": ("This could be an emergency",
                         "Trouble breathing, or a throat or tongue that feels tight or swollen, needs help now. Call "
                         "{emergency_number} now." + INFUSING + " Do not wait for a reply here."),
    "anaphylaxis": ("This could be a serious allergic reaction",
                    "Swelling of the face, lips, tongue or eyes, or hives spreading over the body, can be a serious "
                    "allergic reaction. Call {emergency_number} now, and use an adrenaline auto-injector if you have "
                    "been prescribed one." + INFUSING),
    "chest_pain": ("This could be an emergency",
                   "Chest pain, pressure or tightness needs to be checked straight away. Call {emergency_number} now."
                   + INFUSING + " Do not wait for a reply here."),
    "stroke": ("This could be a stroke",
               "A drooping face, weakness or numbness on one side, slurred or muddled speech, or sudden loss of vision "
               "can be signs of a stroke. Call {emergency_number} now and note the time the signs started."),
    "collapse": ("This could be an emergency",
                 "Fainting, blacking out or collapsing needs to be checked straight away. Call {emergency_number} now "
                 "if it happened just now or someone is still not fully awake, otherwise contact {clinic_phone} today."
                 + INFUSING),
    "seizure": ("This could be an emergency",
                "A seizure needs help now. Call {emergency_number}. Keep the person safe from injury, do not put "
                "anything in their mouth, and turn them on their side when the shaking stops."),
    "meningism": ("This could be an emergency",
                  "A sudden or very severe headache, or a headache with a stiff neck or with light hurting the eyes, "
                  "needs to be checked straight away. Call {emergency_number} now or go to an emergency department."),
    "blood_clot": ("Contact your care team today",
                   "A painful, swollen or red leg, or an arm that swells and turns blue or purple, can be a sign of a "
                   "blood clot, which IVIG can rarely cause. Contact {clinic_phone} today. If you also become short of "
                   "breath or have chest pain, call {emergency_number} now."),
    "kidney": ("Contact your care team today",
               "Passing little or no urine after IVIG can be a sign of a kidney problem. Contact {clinic_phone} today. "
               "If you feel very unwell, call {emergency_number}."),
    "hemolysis": ("Contact your care team today",
                  "Dark urine, or yellowing of the skin or the whites of the eyes, can be a sign that IVIG is affecting "
                  "your red blood cells. Contact {clinic_phone} today. If you feel very unwell or breathless, call "
                  "{emergency_number}."),
}
# Added to a reply that raised no alarm but mentions self-harm ("I self-harmed as a teenager,
# do I have to put it on the form?"): the answer stays, and help is one tap away.
SUPPORT_NOTE = ("If you are ever having thoughts of harming yourself, you can call or text {crisis_line} at any "
                "time, or call {emergency_number} if you are in danger.")
URGENT_REPLY = "Please get help first. Below is what the clinic's documents say, for information only."
URGENT_REPLY_NO_PASSAGES = "Please get help first."

# Contacts when the clinic has not set its own.
DEFAULT_EMERGENCY_NUMBER = "your local emergency number"
DEFAULT_CRISIS_LINE = "a suicide and crisis line"
DEFAULT_CLINIC_PHONE = "your care team"

# When nothing answers but the message is about feeling unwell, lead with what to do.
NO_MATCH_SYMPTOM = (
    "If you feel unwell, contact {clinic_phone}, and if it feels severe or is getting worse quickly, call "
    "{emergency_number}. I couldn't find this in the clinic's documents, and I can only share what they say."
)
REPEATED = (
    "The clinic's documents don't say more about this than what I showed you. Here it is again; your care team "
    "can tell you more."
)
DOSE = (
    "Your dose is decided by your own doctor, for you: I can't tell you what dose to have. Here is what the "
    "clinic's documents say about doses, for information only. It is not a recommendation."
)
DOSE_NO_MATCH = "Your dose is decided by your own doctor, for you: I can't tell you what dose to have."

# Messages in a language the bot cannot read: one notice, in English and in that language.
# Add a language with its code (as in bot/data/languages.yaml) and its notice.
LANGUAGE_NOTICE = {
    "es": ("I can only answer in English. If this is an emergency, call {emergency_number} now. / "
           "Solo puedo responder en inglés. Si es una emergencia, llame ahora al {emergency_number}."),
}
LANGUAGE_NOTICE_DEFAULT = "I can only answer in English. If this is an emergency, call {emergency_number} now."

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
