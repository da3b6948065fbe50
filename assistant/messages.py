"""What Waymark says in its own voice, in the asker's language (English as the fallback).

The guardrails policy may override these per language; these are the built-in defaults.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from guardrails.contracts import Answer

MessageKey = Literal["not_covered", "error", "cut", "uncited", "blocked", "quote_intro", "machine_translation",
                     "redacted", "retracted", "yes", "no"]

LANGUAGE_NAMES = {
    "en": "English", "he": "Hebrew", "da": "Danish", "fr": "French", "de": "German", "es": "Spanish",
    "nl": "Dutch", "sv": "Swedish", "no": "Norwegian", "nb": "Norwegian", "it": "Italian", "pt": "Portuguese",
    "pl": "Polish", "ar": "Arabic", "cy": "Welsh", "fi": "Finnish",
}

MESSAGES: dict[str, dict[MessageKey, str]] = {
    "en": {
        "yes": "Yes.",
        "no": "No.",
        "not_covered": "The guidance I have does not cover this question.",
        "error": "Sorry, I could not produce an answer just now. Please try again in a moment.",
        "cut": "(The answer was cut off before it finished.)",
        "uncited": "I could not find a passage in the guidance that supports an answer, so I will not guess.",
        "blocked": "I can't help with that request.",
        "quote_intro": "The guidance says:",
        "machine_translation": "(machine translation)",
        "redacted": "(Personal details were removed from your question before it was searched or sent to the model.)",
        "retracted": "(Part of an answer was shown, then withdrawn: the check over the whole answer did not let "
                     "it stand.)",
    },
    "fr": {
        "yes": "Oui.",
        "no": "Non.",
        "not_covered": "Les documents d'orientation dont je dispose ne traitent pas de cette question.",
        "error": "Désolé, je n'ai pas pu répondre pour le moment. Veuillez réessayer dans un instant.",
        "cut": "(La réponse a été interrompue avant la fin.)",
        "uncited": "Je n'ai trouvé aucun passage des documents qui étaye une réponse ; je préfère ne pas deviner.",
        "blocked": "Je ne peux pas répondre à cette demande.",
        "quote_intro": "Les documents indiquent :",
        "machine_translation": "(traduction automatique)",
        "redacted": "(Les données personnelles ont été retirées de votre question avant la recherche "
                    "et l'envoi au modèle.)",
        "retracted": "(Une partie de la réponse a été affichée puis retirée : la vérification de la réponse "
                     "complète ne l'a pas validée.)",
    },
    "da": {
        "yes": "Ja.",
        "no": "Nej.",
        "not_covered": "Den vejledning, jeg har, dækker ikke dette spørgsmål.",
        "error": "Beklager, jeg kunne ikke svare lige nu. Prøv igen om et øjeblik.",
        "cut": "(Svaret blev afbrudt, før det var færdigt.)",
        "uncited": "Jeg fandt ingen passage i vejledningen, der understøtter et svar, så jeg vil ikke gætte.",
        "blocked": "Det kan jeg ikke hjælpe med.",
        "quote_intro": "Vejledningen siger:",
        "machine_translation": "(maskinoversættelse)",
        "redacted": "(Personoplysninger blev fjernet fra dit spørgsmål, før der blev søgt, og før det blev "
                    "sendt til modellen.)",
        "retracted": "(En del af et svar blev vist og derefter trukket tilbage: kontrollen af hele svaret "
                     "godkendte det ikke.)",
    },
    "he": {
        "yes": "כן.",
        "no": "לא.",
        "not_covered": "ההנחיות שבידי אינן עוסקות בשאלה הזו.",
        "error": "מצטער, לא הצלחתי לענות כרגע. נסו שוב בעוד רגע.",
        "cut": "(התשובה נקטעה לפני שהסתיימה.)",
        "uncited": "לא מצאתי בהנחיות קטע שתומך בתשובה, ולכן לא אנחש.",
        "blocked": "איני יכול לעזור בבקשה זו.",
        "quote_intro": "ההנחיות אומרות:",
        "machine_translation": "(תרגום מכונה)",
        "redacted": "(פרטים אישיים הוסרו מהשאלה לפני החיפוש ולפני שנשלחה למודל.)",
        "retracted": "(חלק מתשובה הוצג ואז נמשך בחזרה: הבדיקה של התשובה המלאה לא אישרה אותו.)",
    },
    "de": {
        "yes": "Ja.",
        "no": "Nein.",
        "not_covered": "Die mir vorliegenden Leitfäden behandeln diese Frage nicht.",
        "error": "Entschuldigung, ich konnte gerade keine Antwort geben. Bitte versuchen Sie es gleich noch einmal.",
        "cut": "(Die Antwort wurde abgebrochen, bevor sie fertig war.)",
        "uncited": "Ich habe keine Textstelle gefunden, die eine Antwort stützt, daher rate ich nicht.",
        "blocked": "Dabei kann ich nicht helfen.",
        "quote_intro": "Der Leitfaden sagt:",
        "machine_translation": "(maschinelle Übersetzung)",
        "redacted": "(Personenbezogene Angaben wurden aus Ihrer Frage entfernt, bevor gesucht und das Modell "
                    "gefragt wurde.)",
        "retracted": "(Ein Teil einer Antwort wurde angezeigt und dann zurückgezogen: die Prüfung der ganzen "
                     "Antwort hat ihn nicht bestätigt.)",
    },
    "es": {
        "yes": "Sí.",
        "no": "No.",
        "not_covered": "Las guías de que dispongo no tratan esta pregunta.",
        "error": "Lo siento, no he podido responder ahora. Inténtelo de nuevo en un momento.",
        "cut": "(La respuesta se interrumpió antes de terminar.)",
        "uncited": "No encontré ningún pasaje de las guías que respalde una respuesta, así que no voy a adivinar.",
        "blocked": "No puedo ayudar con esa solicitud.",
        "quote_intro": "Las guías dicen:",
        "machine_translation": "(traducción automática)",
        "redacted": "(Se eliminaron los datos personales de su pregunta antes de buscar y de enviarla al modelo.)",
    },
}


def message(key: MessageKey, language: str) -> str:
    return MESSAGES.get(language, {}).get(key) or MESSAGES["en"][key]


def notices(answer: Answer) -> list[str]:
    """What the rails changed in an answer, in the asker's language and plain words (no internals)."""
    out = []
    if any(g.stage == "input" and g.rail == "pii" and g.verdict != "pass" for g in answer.guardrails):
        out.append(message("redacted", answer.language))
    if answer.retracted:
        out.append(message("retracted", answer.language))
    return out


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, "the language of the question")
