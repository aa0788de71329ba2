"""Emergency triage: held-out recall and false alarms, ConText, spelling, contacts and languages."""
from __future__ import annotations

import hashlib
import json

import pytest

from bot.dialogue import Dialogue
from bot.triage import EXAMPLES_FILE
from conftest import load_jsonl, plain

HELD_OUT = load_jsonl("eval/triage.heldout.jsonl")
URGENT = [r for r in HELD_OUT if r["urgent"]]
BENIGN = [r for r in HELD_OUT if not r["urgent"]]
# The triage issue's targets are recall >= 0.99 and false alarms <= 0.02 on this half, which
# was never used for tuning. Measured on all 3,437 held-out messages: 0.994 (1,537 of 1,547),
# met, and 0.075 (142 of 1,890; 171 before the symptom's clause was held to `clear_near_below`,
# 155 before the `settled_` lines), NOT met (BENCHMARKS.md lists every miss); these floors hold the
# measured level so that no change makes it worse. The first writers' and writers a-b's
# look-alikes keep a floor of their own (0.035; measured 7 of 289); the later writers (s, t, w,
# x, y, then o, p, u, mm and ctx, then aa and bb, then dd and ee, then hh and jj) wrote harder
# look-alikes and plain conversation.
MIN_RECALL = 0.993  # 1,537 of 1,547 is 0.99354...
MAX_FALSE_ALARMS = 0.0752  # 142 of 1,890 is 0.07513...
EARLIER_MAX_FALSE_ALARMS = 0.035
LATER_WRITERS = {"writer-s", "writer-t", "writer-w", "writer-x", "writer-y", "writer-o", "writer-p", "writer-u", "writer-mm",
                 "writer-ctx", "writer-aa", "writer-bb", "writer-dd", "writer-ee", "writer-hh", "writer-jj"}
# Follow-ups ("and the nausea?") and small talk, logistics: never an emergency. Measured: 6 of
# 441, read by the learned net alone.
CONVERSATION_MAX_ALARMS = 0.014
CHAT_INTENTS = {"greeting", "thanks", "goodbye", "identity", "help", "human", "more", "logistics"}


def test_held_out_emergencies_are_recognised(dialogue):
    # Held-out checks assert on plain numbers only: pytest shows the values in a failing assert
    # (`len(URGENT)` would print the list), and held-out messages must never be shown to whoever tunes.
    missed, total = sum(dialogue.respond(r["message"]).kind != "urgent" for r in URGENT), len(URGENT)
    assert 1 - missed / total >= MIN_RECALL


def test_held_out_look_alikes_do_not_raise_alarms(dialogue):
    alarmed = [dialogue.respond(r["message"]).kind == "urgent" for r in BENIGN]
    alarms, total = sum(alarmed), len(alarmed)
    assert alarms / total <= MAX_FALSE_ALARMS
    earlier = [a for a, r in zip(alarmed, BENIGN) if r.get("source") not in LATER_WRITERS]
    earlier_alarms, earlier_total = sum(earlier), len(earlier)
    assert earlier_alarms / earlier_total <= EARLIER_MAX_FALSE_ALARMS


def test_held_out_conversation_raises_no_alarms(dialogue):
    chat = [r["message"] for r in load_jsonl("eval/followups.heldout.jsonl")]
    chat += [r["message"] for r in load_jsonl("eval/intents.heldout.jsonl") if r["intent"] in CHAT_INTENTS]
    alarms, total = sum(dialogue.respond(m).kind == "urgent" for m in chat), len(chat)
    assert alarms / total <= CONVERSATION_MAX_ALARMS


@pytest.mark.parametrize("message", ["and?", "and then?", "ok and?"])
def test_nothing_but_function_words_raises_no_alarm(dialogue, message):
    """The learned net once read "and" as a sign of an emergency (they are written as lists of
    symptoms): alone, it needs a word that names something."""
    assert dialogue.respond(message).kind != "urgent"


@pytest.mark.parametrize("message", ["husbnd cant brth pls", "gray and sweaty", "my face feels funny", "throat feels weird",
                                     "dad keeps falling over", "cant stay awake", "he looks awful"])
def test_a_terse_emergency_raises_an_alarm(dialogue, message):
    """Most of these are the learned net's alone. A stricter line for short messages (tried, to
    quiet follow-ups such as "y el precio?") silenced them, and was withdrawn."""
    assert dialogue.respond(message).kind == "urgent"


def test_evaluation_halves_follow_the_fixed_split():
    """Nobody moves a message between halves: the half is a hash of its text."""
    for name in ("triage", "questions", "intents"):
        for half in ("tune", "heldout"):
            # The triage tune half is mostly the learned net's examples (checked below);
            # eval/triage.tune.jsonl holds the part not learned yet (BENCHMARKS.md).
            for row in load_jsonl(f"eval/{name}.{half}.jsonl"):
                text = row.get("message") or row["question"]
                odd = int(hashlib.sha256(text.encode()).hexdigest(), 16) % 2
                in_its_half = ("heldout" if odd else "tune") == half
                assert in_its_half, f"a row of eval/{name}.{half}.jsonl belongs to the other half"


def test_no_triage_example_is_a_held_out_message():
    """Neither the learned net's examples nor the semantic net's (triage.yaml) may be a
    held-out message, or recall and false alarms would be measured on what was learned."""
    import yaml

    from bot.triage import DATA_FILE
    learned = {plain(json.loads(line)["message"]) for line in EXAMPLES_FILE.read_text(encoding="utf-8").splitlines()}
    categories = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))["categories"].values()
    semantic = {plain(e) for c in categories for key in ("examples", "benign_examples") for e in c.get(key) or ()}
    held_out = {plain(r["message"]) for r in HELD_OUT}
    shared = len((learned | semantic) & held_out)  # a number: the texts are held out
    assert shared == 0


@pytest.mark.parametrize("message, category", [
    ("pretty sure I'm reacting to the infusion, itchy welts everywhere", "anaphylaxis"),
    ("my tongue feels too big for my mouth", "airway_breathing"),
    ("can't get a proper breath in", "airway_breathing"),
    ("I've been saving up my pills", "self_harm"),
    ("my dad is grey and not answering me", "unresponsive"),
    ("I came round on the bathroom floor", "collapse"),
    ("my head is splitting, my neck won't bend and light hurts", "meningism"),
    ("my left hand has gone numb and my fingers won't work", "stroke"),
    # An ignore phrase hides every match it overlaps: these must survive the ordinary uses
    # ("fits in my diary", "team colours are blue and white") that the ignore list names.
    ("she is having a fit in the car", "seizure"),
    ("her lips have gone blue and white", "unresponsive"),
    ("ceasure happening", "seizure"),  # a misspelling the dictionary would read as "measure"
    ("my son is having a sees her", "seizure"),  # voice dictation
    ("had a nightmare and now i cant breathe properly", "airway_breathing"),  # the dream ends at "and now"
    ("my mum came round for tea and then collapsed in the kitchen", "collapse"),
    # Phrasings an outside review found missed (tests/data/probes/buried_emergencies.jsonl).
    ("me acabo de desmayar en el baño", "collapse"),
    ("theres no point carrying on anymore", "self_harm"),
    # A whole supply of a named medicine that is not an IVIG premedication.
    ("swallowed a handful of diazepam", "self_harm"),
    ("me tomé todas mis pastillas para dormir", "self_harm"),
    ("asthma attack wont stop 4 puffs nothing", "airway_breathing"),
    # What a leaflet lists, said to be happening now (`applies_now`: the learned net may not clear
    # it either), and a new weakness on the good side (from the minimal pairs' written-against half).
    ("the sheet says get help if you have hives, a swollen tongue or wheezing. I have all of those now", "anaphylaxis"),
    ("copied from the website: call 999 if someone is unresponsive or not breathing. my husband is like that right now", "unresponsive"),
    ("my notes mention weakness from an old injury, but today my good side has gone weak too, the leg gave way and the arm is floppy", "stroke"),
])
def test_the_issue_examples_are_urgent(dialogue, message, category):
    reply = dialogue.respond(message)
    assert reply.kind == "urgent" and reply.urgent.category == category


@pytest.mark.parametrize("message, category", [
    ("my arm where the drip went in is swollen and bluish", "blood_clot"),
    ("haven't needed the loo since yesterday's infusion", "kidney"),
])
def test_signs_the_learned_net_alone_once_caught_have_rules(dialogue, message, category):
    """Two tune messages were caught only by the learned net, and learning more data once lost
    them: a clot in the arm the drip went into, and little urine in the loo's words. A rule
    holds them now, whatever the net learns."""
    urgent = dialogue.respond(message).urgent
    assert urgent is not None and (urgent.category, urgent.how) == (category, "rule")


@pytest.mark.parametrize("message", [
    "I don't have chest pain, just a mild headache",
    "I nearly fainted when I saw the bill",
    "what are the signs of an allergic reaction?",
    "I had a seizure years ago, can I still have IVIG?",
    "things got worse after my second infusion, the headache I mean",  # worse is not worst
    "I painted the spare room before my infusion",  # painted is not fainted
    "I was cooking dinner when the clinic called",  # cooking is not choking
    "how long is the infusion this month",  # month is not mouth
    # Everyday uses of the words in overdose, breathing, angina and urine phrases.
    "the kids got a knife set for christmas",
    "the pharmacy had a fatal amount of paperwork",
    "my nasal spray is not working so my nose is blocked",
    "I can only read every few words because my eyes are tired",
    "I try not to need the toilet during the drip so I drink less",
    "I dreamed I couldn't breathe last night, woke up fine",  # a dream is not happening now
    "my sister came round for dinner last night",  # "came round" as in visiting
    "police seized my car this morning",  # seized is not seizing
    # The everyday uses an outside review found for this session's phrases ("blade to my
    # wrist", "asthma attack won't stop"), and for those it withdrew.
    "I've had an ache from my shoulder blade to my neck since the infusion, is that normal?",
    "Is it ok to take a razor to my legs right after the infusion?",
    "I'm planning not to be here next Tuesday, can I move my infusion?",
    "my inhaler isnt helping with this cold",
    # Near the eleventh session's `applies_now`, "good side" and withdrawn phrases ("tired of
    # living", "all my tablets at once"); the first three alarmed with `applies_now`'s first,
    # broader version, as an outside review found.
    "I have all these questions before my first infusion: what should I do if I get a rash or my throat feels tight during it?",
    "what would happen if someone stopped breathing during an infusion? I have all these what-ifs in my head",
    "can you list the signs of anaphylaxis to watch for at home? i have all of them on a card but lost it",
    "I'm sick and tired of living out of a suitcase at my mum's while the kitchen is redone",
    "is it ok to take all my tablets at once in the morning or spread them out?",
    "my good side is strong as ever, my weak arm from the old stroke is the same as always",
])
def test_look_alikes_are_not_urgent(dialogue, message):
    assert dialogue.respond(message).kind != "urgent"


def test_spelling_never_turns_a_real_word_into_another(searcher):
    read = searcher.understander.read("worse month painted cooking paint")
    assert read.words == ("worse", "month", "painted", "cooking", "paint") and read.corrections == ()


def test_spanish_words_are_not_mended_into_english_ones(dialogue):
    """ "hola" is one letter from "cola", which describes dark urine in the triage file."""
    assert dialogue.understander.read("hola").words == ("hola",)
    assert dialogue.respond("hola").kind != "urgent"


def test_unknown_words_and_text_speak_are_read(searcher):
    read = searcher.understander.read("wat r teh side efects, hrs n hrs")
    assert read.words[:5] == ("what", "are", "the", "side", "effects")
    assert "hours" in read.words and "and" in read.words


def test_self_harm_gets_the_crisis_message_with_the_clinics_contacts(searcher, settings):
    settings = settings.with_overrides(emergency_number="911", crisis_line="988", clinic_phone="555-0100")
    dialogue = Dialogue(searcher, settings)
    body = dialogue.to_json(dialogue.respond("i have been thinking about ending my life"))
    assert body["kind"] == "urgent" and body["urgent"]["category"] == "self_harm"
    assert "988" in body["urgent"]["message"] and "911" in body["urgent"]["message"]
    assert body["urgent"]["contacts"] == {"emergency_number": "911", "crisis_line": "988", "clinic_phone": "555-0100"}
    assert body["urgent"]["severity"] == "emergency"


def test_care_team_today_categories_say_so(dialogue):
    body = dialogue.to_json(dialogue.respond("I haven't peed at all since my infusion yesterday"))
    assert body["urgent"]["category"] == "kidney" and body["urgent"]["severity"] == "care_team_today"


def test_spanish_emergency_is_urgent_and_spanish_question_gets_the_notice(dialogue):
    urgent = dialogue.respond("ayuda, no puedo respirar")
    assert urgent.kind == "urgent" and "Solo puedo responder en inglés" in urgent.reply
    other = dialogue.respond("¿cuánto cuesta la infusión de IVIG?")
    assert other.kind == "other_language" and other.urgent is None


def test_no_match_about_feeling_unwell_leads_with_what_to_do(dialogue):
    reply = dialogue.respond("I have a cough since my infusion")
    assert reply.kind == "no_match" and reply.reply.startswith("If you feel unwell")


def test_a_broken_triage_file_is_a_clear_error(searcher, tmp_path):
    from bot.triage import Triage, TriageError
    bad = tmp_path / "triage.yaml"
    bad.write_text("concepts: {a: [x]}\ncategories: {c: {severity: soon, rules: [[b]]}}\n", encoding="utf-8")
    with pytest.raises(TriageError, match="severity must be one of.*unknown concept 'b'"):
        Triage.load(searcher.understander, bad)
    bad.write_text("learned: {clear_below: lots}\nconcepts: {a: [x]}\ncategories: {c: {severity: emergency, rules: [[a]]}}\n",
                   encoding="utf-8")
    with pytest.raises(TriageError, match="learned.clear_below: must be a number"):
        Triage.load(searcher.understander, bad)
    bad.write_text("learned: {clause_breaks: then}\nconcepts: {a: [x]}\ncategories: {c: {severity: emergency, rules: [[a]]}}\n",
                   encoding="utf-8")
    with pytest.raises(TriageError, match="learned.clause_breaks: must be a list of phrases"):
        Triage.load(searcher.understander, bad)


@pytest.mark.parametrize("message, alarm", [
    ("My wife fainted at her first infusion but she's been fine since. Could someone sit with her next time?", False),
    ("My wife fainted just now at her first infusion but she's been fine since. Could someone sit with her next time?", True),
    ("My wife fainted at her first infusion tonight but she's been fine since. Could someone sit with her next time?", True),
    ("My wife fainted at her first infusion, fine since", True),  # too short to be held to them
])
def test_only_a_long_message_saying_nothing_of_now_is_held_to_the_settled_lines(searcher, settings, message, alarm):
    """With lines that never clear and `settled_` lines that always do, only a message of
    `long_words` or more with none of `now_words` in the symptom's sentence is cleared."""
    from bot.analysis import read_yaml
    from bot.cache import Cache
    from bot.triage import DATA_FILE, Triage, TriageError
    data = read_yaml(DATA_FILE, TriageError)
    data["learned"] |= {"clear_below": 0.0, "clear_near_below": 1.0, "settled_clear_below": 1.0, "settled_clear_near_below": 1.0}
    lines = Triage(data, searcher.understander, cache=Cache.for_corpus(settings.index_cache_dir, searcher.fingerprint))
    assert (lines.assess(searcher.understander.read(message)) is not None) is alarm


@pytest.mark.parametrize("message", ["my son was playing a game and had a seizure", "fed the dog then had a seizure",
                                     "my son was playing a game, had a seizure", "my son had a seizure while playing",
                                     "i fainted while feeding the cat"])
def test_a_harmless_setting_does_not_clear_the_emergency_told_after_it(dialogue, message):
    """The learned net read these at 0.01 to 0.05 ("game" and "dog" weigh as harmless); the
    symptom's own clause, from "and had", "then" or a comma up to a "while", must read as
    harmless too."""
    assert dialogue.respond(message).kind == "urgent"


def test_an_animal_s_seizure_is_still_not_an_emergency(dialogue):
    assert dialogue.respond("my dog had a seizure last night, the vet says he's fine now").kind != "urgent"


@pytest.mark.parametrize("message", [
    "our cat had a fit of the zoomies at 3am, can I still come in at 10?",
    "my old hamster just collapsed in his wheel, vet says it's his age",
    "en la telenovela, la protagonista se desmayó en la boda jajaja",
])
def test_an_animal_s_or_a_character_s_symptom_is_not_a_person_s(dialogue, message):
    """The symptom's subject (a clause opening with an owner word and a listed animal or
    character, then linking words) is not a person (bot/data/context.yaml, `subjects`)."""
    assert dialogue.respond(message).kind != "urgent"


@pytest.mark.parametrize("message", [
    "I let the dog out and fainted on the step",
    "im allergic to cats cant breathe",
    "the dog is barking because my dad isnt breathing",
    "my cat scratched me and my face is swelling up",
    "the dog knocked me over and i cant feel my left arm",
    "my dog had a seizure and now my husband is having one too",
    "mi perro ladra porque mi papá no respira",
    "fed the dog then had a seizure",
    "my wife and our dog just fainted, something is wrong with the heater",  # carbon monoxide
    "my daughter dressed up as a puppy just fainted at the party",
    "my sister cat just collapsed in the kitchen",  # a word for a person is not a describing word
    "the heroin just knocked him out cold and he's not breathing",  # heroine would share its stem
    "my cat allergy attack is so bad right now and my throat is tight",
    "walked the dog had a seizure on the way back",
    "was walking the dog suddenly collapsed",
    # The learned net, which weighs "cat" and "dog" as harmless, cleared these: a person shares
    # the symptom, or the subject rules found no animal subject and the net reads the message
    # without its animal words.
    "the cat collapsed and then so did i",
    "the dog fainted and then me",
    "my daughter dressed as a cat just collapsed at the halloween party",
    "my husband and the dog had a fit at the same time",
    "mi esposo y el perro se desmayaron en la cochera",
    "at a cosplay con my friend went as a zombie has passed out cold",  # `either`: zombie names people too
])
def test_an_animal_nearby_does_not_explain_a_person_s_emergency_away(dialogue, message):
    assert dialogue.respond(message).kind == "urgent"


@pytest.mark.parametrize("message", [
    "in the film queue and my wife collapsed",
    "in the movie theater my husband collapsed",
    "in the movie my husband started choking on popcorn",  # "in the movie" is often the cinema
    "in the film, my husband collapsed",
    "en la pelicula mi madre no puede respirar",
    "in last nights episode my daughter stopped breathing",
    "the cat fainted and then i did too",
])
def test_a_story_or_an_animal_word_does_not_explain_a_real_emergency_away(dialogue, message):
    """An outside review found a story's-scene trigger ("in the film ...") hiding these; it was
    withdrawn."""
    assert dialogue.respond(message).kind == "urgent"


@pytest.mark.parametrize("message", [
    "i took all my painkillers before the infusion like the nurse said",
    "ive taken all my paracetamol doses today as prescribed",
    "I took all my meds this morning as usual",
    "is there any point in carrying on with ivig if my igg levels are normal now?",
])
def test_taking_medicines_as_prescribed_is_not_self_harm(dialogue, message):
    """Overdose phrases name a supply taken at once ("a whole packet"), not the doses."""
    assert dialogue.respond(message).kind != "urgent"


BURIED = load_jsonl("probes/buried_emergencies.jsonl")


def test_emergencies_buried_in_long_reassuring_messages_raise_alarms(dialogue):
    """160 emergencies an outside writer hid in logistics, resolved stories, pets, shows and
    "probably nothing", written to test how far the learned net may clear a rule's alarm
    (`clear_near_below`). Two were missed when they were written: the Spanish "desmayar" and
    "I took all my gabapentin about an hour ago", told calmly among work and scheduling; both
    are in triage.yaml now (`took_all` with a named `medicine`)."""
    missed = [r["message"] for r in BURIED if dialogue.respond(r["message"]).kind != "urgent"]
    assert not missed, missed


def test_a_short_message_naming_an_emergency_is_never_cleared(dialogue):
    """Three words leave the learned net nothing to explain a symptom away with."""
    for message in ["seizure during infusion", "fainted during infusion"]:  # cleared at 0.005 and 0.007 before
        assert dialogue.respond(message).kind == "urgent", message


PADDING = ("Quick question about parking at the clinic, whether insurance covers the cost, how long the infusion "
           "takes and if I can bring my laptop and a snack.")


@pytest.mark.parametrize("emergency", ["I can't breathe", "I have crushing chest pain", "my lips are turning blue",
                                       "my wife is fitting and won't stop"])
@pytest.mark.parametrize("where", ["after", "twice after", "before"])
def test_an_emergency_is_not_diluted_by_a_long_routine_message(dialogue, emergency, where):
    # The learned net may clear a rule's alarm, but only when the words around the symptom read
    # as harmless too: routine words elsewhere must never switch an emergency off.
    text = {"after": f"{PADDING} {emergency}", "twice after": f"{PADDING} {PADDING} {emergency}",
            "before": f"{emergency}. {PADDING} {PADDING}"}[where]
    assert dialogue.respond(text).kind == "urgent"


OVERDOSES = load_jsonl("probes/overdoses.jsonl")


def test_targeted_probe_sets_raise_alarms(dialogue):
    """Outside writers' probe sets for one kind of emergency each, with harmless messages in the
    same words. Only measured, never learned from or written against (BENCHMARKS.md):
    - overdoses (the `check` set of probes/overdoses.jsonl; the other two sets are in the learned
      net's examples): 76 of 80 alarm (53 at the session's start), 14 of 79 harmless ones (12);
    - suicide and self-harm without an overdose (half of one writer's set; the other half and two
      more writers' sets are in the examples): 52 of 57 (30), 12 of 48 harmless (12);
    - IVIG's warning signs and stroke: 99 of 100 (100), 8 of 100 harmless (11; 10 before the
      `settled_` lines);
    - everyday messages in the words of a crisis ("I won't be around next week", "can you
      overdose on IVIG?") and crises told in that register (the `check` half of
      probes/everyday.jsonl; phrases were written from the other half): 53 of 53 (53), 17 of 157
      harmless (21).
    - self-harm told with its history: a year or more ago and over ("I self-harmed as a
      teenager, do I have to put it on the form?"), or back now ("...and the urges are back"),
      (the `check` half of probes/self_harm_history.jsonl; phrases were written from the other
      half): 52 of 62 (51 before long-past self-harm could be explained away), 21 of 54
      harmless (38).
    - every category, by four writers of 2026-11-23 (everyday settings, context, other people
      and care, plain chat and self-harm nuance; the `check` half of
      probes/writers_2026_11_23.jsonl; phrases were written from the other half's misses):
      239 of 243, and 65 of 585 harmless ones alarm (80 before the symptom's clause was held to
      `clear_near_below`, 74 before the `settled_` lines). Scored before any use: 504 of 512, 149 of
      1,120 on the whole set. Learning from it was tried and not adopted (BENCHMARKS.md).
    - minimal pairs by five writers of the eleventh session (probes/pairs_2026_11_23.jsonl): a
      harmless look-alike and an emergency in the same setting and words (a film, a figure of
      speech, a memory, a job story, a leaflet). Written to be learned from; learning from them
      (all of them, and in the thirteenth session the `written-against` half) cleared reviewed
      emergencies ("in the film, my husband collapsed") and was not adopted, so they are
      measured only. The `check` half (pairs split by their emergency's
      SHA-256): 764 of 768 (763 before `applies_now` and "good side", written from the other
      half's misses), and 126 of 768 harmless ones alarm (142 before the symptom's clause was
      held to `clear_near_below`, 136 before the `settled_` lines).
    - emergencies told after the fact, by two writers of the twelfth session
      (probes/settled_2026_11_23.jsonl): long messages in the past tense with none of
      `now_words`, the messages the `settled_` lines are loosest on. Scored before any use, the
      lines lost none of 140 (138 caught with them and without); the two misses, both self-harm,
      were then written against, so all of it is `written-against`.
    Since self-harm's indirect signs became clearable (triage.yaml `self_harm_signs`), harmless
    overdose and self-harm messages alarm 10 and 9 times (14 and 12 before); self-harm's 10th
    came with the phrases written from the history probe. These floors hold that level."""
    sets = {"overdoses": ([r for r in OVERDOSES if r["set"] == "check"], 4, 10),
            "self-harm": (load_jsonl("probes/self_harm_check.jsonl"), 5, 10),
            "self-harm history": ([r for r in load_jsonl("probes/self_harm_history.jsonl") if r["set"] == "check"], 10, 21),
            "warning signs": (load_jsonl("probes/warning_signs.jsonl"), 1, 8),
            "everyday": ([r for r in load_jsonl("probes/everyday.jsonl") if r["set"] == "check"], 0, 17),
            "writers 2026-11-23": ([r for r in load_jsonl("probes/writers_2026_11_23.jsonl") if r["set"] == "check"], 4, 65),
            "minimal pairs": ([r for r in load_jsonl("probes/pairs_2026_11_23.jsonl") if r["set"] == "check"], 4, 126),
            "told after the fact": (load_jsonl("probes/settled_2026_11_23.jsonl"), 0, 0)}
    for name, (rows, most_missed, most_alarms) in sets.items():
        missed = [r["message"] for r in rows if r["expect"] == "E" and dialogue.respond(r["message"]).kind != "urgent"]
        alarms = [r["message"] for r in rows if r["expect"] == "B" and dialogue.respond(r["message"]).kind == "urgent"]
        assert len(missed) <= most_missed, (name, missed)
        assert len(alarms) <= most_alarms, (name, alarms)


def test_the_newest_probe_is_split_by_hash_and_never_learned_from():
    """Its `check` half is the texts of odd SHA-256, and no text of it is in the learned net's
    examples or the held-out half: it measures what the bot has never seen."""
    rows = load_jsonl("probes/writers_2026_11_23.jsonl")
    assert all(r["set"] == ("check" if int(hashlib.sha256(r["message"].encode()).hexdigest(), 16) % 2 else "written-against")
               for r in rows)
    assert overlaps(rows) == (0, 0)


def test_the_minimal_pairs_were_never_learned_from_and_keep_their_twins_in_one_half():
    """Each pair is one emergency and one look-alike, in the half its emergency's SHA-256 parity
    picks; none is learned from nor held out."""
    rows = load_jsonl("probes/pairs_2026_11_23.jsonl")
    twins: dict[tuple[str, int], list[dict]] = {}
    for r in rows:
        twins.setdefault((r["source"], r["pair"]), []).append(r)
    assert all(sorted(r["expect"] for r in pair) == ["B", "E"] for pair in twins.values())
    for pair in twins.values():
        emergency = next(r["message"] for r in pair if r["expect"] == "E")
        half = "check" if int(hashlib.sha256(emergency.encode()).hexdigest(), 16) % 2 else "written-against"
        assert [r["set"] for r in pair] == [half, half]
    assert overlaps(rows) == (0, 0)


def test_the_after_the_fact_probe_is_neither_learned_from_nor_held_out():
    assert overlaps(load_jsonl("probes/settled_2026_11_23.jsonl")) == (0, 0)


def overlaps(rows: list[dict]) -> tuple[int, int]:
    """How many texts of `rows` are in the learned net's examples, and how many in the held-out half."""
    learned = {plain(json.loads(line)["message"]) for line in EXAMPLES_FILE.read_text(encoding="utf-8").splitlines() if line}
    probe = {plain(r["message"]) for r in rows}
    return len(probe & learned), len(probe & {plain(r["message"]) for r in HELD_OUT})


@pytest.mark.parametrize("message", [
    "took 30 of my sleeping tablets", "had like 40 paracetamol with some wine", "swallowed a handful of my codeine",
    "mi hija se tomó una caja entera de ibuprofeno", "swallowed the rest of my seroquel",
    "I took all my gabapentin about an hour ago"])
def test_an_overdose_named_by_its_amount_is_self_harm(dialogue, message):
    reply = dialogue.respond(message)
    assert reply.kind == "urgent" and reply.urgent.category == "self_harm"


@pytest.mark.parametrize("message", [
    "took 20 mg of pred this morning", "i took 25 units of insulin with dinner", "it took 30 minutes for my tablets to work",
    "the box of paracetamol is empty, need to buy more for premed", "I took 2 paracetamol before my infusion",
    "I had a seizure back in 2010 with a high fever, never since. Is there any reason IVIG would bring one on?"])
def test_a_dose_a_refill_or_a_year_is_not_an_overdose(dialogue, message):
    """A count next to a unit or a time is a dose; four digits are a year, which still makes a
    sentence past ("in 2010"). The learned net's examples hold doses reported in other words
    ("took 10 units of insulin before lunch as normal"), added when three of these failed."""
    assert dialogue.respond(message).kind != "urgent"


@pytest.mark.parametrize("message", [
    "whats the quickest way to the clinic from the station?", "can I have my infusion before the end of the month?",
    "I left the note from my GP at home, is that ok?", "sorry, last message, can I park at the back?",
    "we go to the river for walks after my infusion", "I told work im leaving early on infusion days",
    "can you send me the note for work", "the rope is too short on my drip stand",
    "taking the lot of my usual tablets before I come in?", "do I need to stop eating and drinking before the infusion?",
    "im nervous but going through with it, first infusion friday", "my bag is hanging from the drip stand",
    "stuck at the level crossing, running late"])
def test_logistics_in_the_words_of_a_plan_are_not_self_harm(dialogue, message):
    """Self-harm is never explained away, so its phrases must carry the intent themselves. A
    review found phrases written from the probes ("the quickest way", "before the end", "the
    note", "last message") alarming on these; they were narrowed."""
    assert dialogue.respond(message).kind != "urgent"


@pytest.mark.parametrize("message", [
    "Can you overdose on IVIG?", "Can you take an overdose of IVIG?",
    "what happens if they give you too much ivig, can you overdose",
    "I cut myself shaving this morning, is a small nick ok before the infusion",
    "I'm hoarding snacks for infusion day lol", "made a will last year, nothing to do with ivig just sorting paperwork"])
def test_an_indirect_sign_of_self_harm_in_an_everyday_message_is_cleared(dialogue, message):
    """`self_harm_signs` ("overdose", "cut myself", "hoarding", "made a will") also turn up in
    ordinary messages: the learned net may clear an alarm they alone raise. It does not yet
    clear "I won't be around next week, can I reschedule?" (BENCHMARKS.md)."""
    assert dialogue.respond(message).kind != "urgent"


@pytest.mark.parametrize("message", [
    "i think ive overdosed", "she has taken an overdose", "I'm going to overdose tonight",
    "she is taking an overdose right now",
    # Intent said outright, then logistics: never cleared (an outside review found these cleared
    # when "hurt myself", "cutting myself" and "stockpiling" were listed as indirect signs).
    "I want to hurt myself, can I still come for my infusion on Tuesday?",
    "I'm cutting myself again, is that a problem for infusion day",
    "I'm stockpiling my pills, can I get an early refill",
    # Indirect signs alone, which the learned net reads as a crisis and keeps.
    "I cant do this anymore, I've got all my tablets out on the table",
    "I won't be around for the next infusion, I've made sure of that, I've got enough tablets saved",
    "I've been sitting on the bathroom floor holding a blade to my wrist most nights this week"])
def test_a_crisis_in_the_words_of_a_sign_still_alarms(dialogue, message):
    reply = dialogue.respond(message)
    assert reply.kind == "urgent" and reply.urgent.category == "self_harm"


@pytest.mark.parametrize("message, category", [
    ("Can you overdose on IVIG? my throat feels tight", "airway_breathing"),
    ("I'm hoarding snacks for infusion day lol, I had 40 paracetamol earlier", "self_harm")])
def test_a_cleared_sign_does_not_hide_another_emergency(dialogue, message, category):
    """Every rule that fires must be cleared: the stricter overdose rules of the same category,
    and the categories after it."""
    reply = dialogue.respond(message)
    assert reply.kind == "urgent" and reply.urgent.category == category


def test_a_category_says_which_rules_the_learned_net_may_clear():
    from bot.triage import Category
    signs_only = Category("self_harm", "emergency", frozenset(), (("self_harm",), ("self_harm_signs",)), None,
                          learned_can_clear=frozenset({"self_harm_signs"}))
    assert signs_only.clearable(("self_harm_signs",))
    assert not signs_only.clearable(("self_harm",))
    assert not signs_only.clearable(("self_harm_signs", "medicine"))  # a rule with another concept
    assert not signs_only.clearable(None)  # the semantic net's alarm
    assert Category("seizure", "emergency", frozenset(), (("seizure",),), None).clearable(None)
    assert not Category("x", "emergency", frozenset(), (("x",),), None, learned_can_clear=False).clearable(("x",))


def test_learned_can_clear_names_known_concepts():
    import yaml

    from bot.triage import DATA_FILE, TriageError, validate
    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    data["categories"]["self_harm"]["learned_can_clear"] = ["self_harm_signs", "no_such_concept"]
    with pytest.raises(TriageError, match="no_such_concept"):
        validate(data)
    data["categories"]["self_harm"]["learned_can_clear"] = "sometimes"
    with pytest.raises(TriageError, match="learned_can_clear"):
        validate(data)


def test_a_count_in_a_phrase_is_twenty_to_999_in_digits():
    from bot.phrases import PhraseMatcher
    matcher = PhraseMatcher([("took # of my", "count")], stem=lambda word: word)
    found = {text: bool(matcher.find(text.split())) for text in
             ("took 30 of my", "took 2 of my", "took 2015 of my", "took 30th of my", "took ²⁰ of my")}
    assert found == {"took 30 of my": True, "took 2 of my": False, "took 2015 of my": False,
                     "took 30th of my": False, "took ²⁰ of my": False}


@pytest.mark.parametrize("message", [
    "I used to self-harm as a teenager but that was 20 years ago. Do I have to put it on the form?",
    "Years ago I took an overdose. I'm well now, do the nurses need to know?",
    "I'm not suicidal, just fed up with how long the treatment takes"])
def test_self_harm_long_past_or_denied_gets_the_answer_and_the_crisis_line(searcher, settings, message):
    """No alarm for the long past or a plain denial, but the crisis line is still offered."""
    dialogue = Dialogue(searcher, settings.with_overrides(crisis_line="988"))
    body = dialogue.to_json(dialogue.respond(message))
    assert body["kind"] != "urgent" and body["urgent"] is None
    assert "988" in body["support"]["message"] and body["support"]["contacts"]["crisis_line"] == "988"


@pytest.mark.parametrize("message", [
    "I tried to take my own life last year and the thoughts are creeping back",
    "I used to self harm as a teenager and the urges are back",
    "years ago I took an overdose and I've started again",
    "I took an overdose last night",
    # An outside review of the change found these missed: words of the long past that also say
    # "now" or "lately", a year whose sentence runs on, "since", Spanish "for years (and still)".
    "in the past month i have felt suicidal", "When I was in the shower this morning I thought about killing myself",
    "im so used to wanting to die", "In 2022 I started IVIG, I want to end my life", "ive been suicidal since 2020",
    "I tried to kill myself last year", "i had suicidal thoughts years ago and they came back",
    "I overdosed years ago. I'm at that point now.", "i used to self harm, yesterday i did it",
    "hace años que quiero suicidarme", "desde hace años quiero morir", "Hace años intenté suicidarme y ahora quiero matarme",
    "cuando era joven me hacia dano y ahora me hago dano"])
def test_self_harm_that_has_come_back_or_is_recent_still_alarms(dialogue, message):
    reply = dialogue.respond(message)
    assert reply.kind == "urgent" and reply.urgent.category == "self_harm" and not reply.support


@pytest.mark.parametrize("message", ["I could die of embarrassment, I threw up on the nurse's shoes",
                                     "Can you overdose on IVIG?", "how long does an infusion take",
                                     "I dont have a razor for the shave before my port goes in",
                                     "no overdose risk with ivig right?", "I'm not saying goodbye to IVIG just yet"])
def test_no_crisis_line_after_a_figure_of_speech_a_cleared_sign_or_an_ordinary_question(dialogue, message):
    body = dialogue.to_json(dialogue.respond(message))
    assert body["urgent"] is None and body["support"] is None


def test_a_long_past_emergency_that_is_back_is_not_long_past(dialogue):
    """ConText's `returning` cancels the historical reading; "again" alone does not ("will it
    happen again?" asks about the future)."""
    assert dialogue.respond("I had a seizure years ago and it's happening again now").kind == "urgent"
    assert dialogue.respond("I had a seizure years ago, will it happen again with IVIG?").kind != "urgent"
    # `not_over` ("lately", "these days") cancels only the long past, which only self-harm reads.
    assert dialogue.respond("I fainted once years ago; these days I feel great").kind != "urgent"


def test_support_note_unless_names_context_kinds():
    import yaml

    from bot.triage import DATA_FILE, TriageError, validate
    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    data["categories"]["self_harm"]["support_note_unless"] = ["figurative", "joking"]
    with pytest.raises(TriageError, match="support_note_unless may only list"):
        validate(data)


@pytest.mark.parametrize("message", ["crushing chest pain im in my thirties", "I'm in my twenties and my throat is closing up",
                                     "i want to kill myself, im in my twenties"])
def test_an_age_is_not_the_long_past(dialogue, message):
    """"in my twenties" says how old someone is as often as when something happened: it is not a
    long-past trigger (context.yaml), so a patient's age never explains an emergency away."""
    assert dialogue.respond(message).kind == "urgent"
