"""The words of the SCORM and cmi5 launch pages' bar, in each language they are written in.

One catalogue for both launch pages and their runtimes: the launch page shows the
static words and hands the runtime the rest (in its JSON configuration). A book's
`coursekit.language` (else `language`) picks the language: "fr", "fr-CA" and "fr_FR"
all read French; a language the catalogue lacks, or a word it lacks, reads English.
`{n}`-style fields are filled in by the runtime.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

ENGLISH: Mapping[str, str] = MappingProxyType(
    {
        "previous": "Previous",
        "next": "Next",
        "pages": "Pages",
        "exit": "Exit",
        "position": "Page {n} of {total}",
        "seen": "seen",
        "outside": "in another unit",
        "outside_title": "This page belongs to another unit of the course: open it from there.",
        "new_window": "opens in a new window",
        "resume": "Continue where you left off: page {n} of {total}.",
        "scored": "You scored {raw}/{max} on “{quiz}”.",
        "saved_answers": "Your saved answers are shown; you may start again.",
        "no_lms": "Progress is not recorded here (no LMS found).",
        "no_cmi5": "Progress is not recorded here (not launched by a cmi5 LMS).",
        "mode": "Progress is not recorded in {mode} mode.",
        "lms_error": "Your progress may not be saved: the LMS reported an error ({error}).",
        "cmi5_error": "Your progress may not be saved: the LMS did not accept it ({what}).",
        "done": "Done: your result is recorded.",
        "done_return": "Done: your result is recorded. Exit returns you to the course.",
        "closed": "Your session is closed: you can close this window.",
    }
)

CATALOGUE: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "en": ENGLISH,
        "fr": MappingProxyType(
            {
                "previous": "Précédent",
                "next": "Suivant",
                "pages": "Pages",
                "exit": "Quitter",
                "position": "Page {n} sur {total}",
                "seen": "vue",
                "outside": "dans un autre module",
                "outside_title": "Cette page appartient à un autre module du cours : "
                "ouvrez-la depuis celui-ci.",
                "new_window": "s’ouvre dans une nouvelle fenêtre",
                "resume": "Reprenez là où vous en étiez : page {n} sur {total}.",
                "scored": "Vous avez obtenu {raw}/{max} à « {quiz} ».",
                "saved_answers": "Vos réponses enregistrées sont affichées ; "
                "vous pouvez recommencer.",
                "no_lms": "Votre progression n’est pas enregistrée ici (aucun LMS trouvé).",
                "no_cmi5": "Votre progression n’est pas enregistrée ici "
                "(lancement hors d’un LMS cmi5).",
                "mode": "Votre progression n’est pas enregistrée en mode {mode}.",
                "lms_error": "Votre progression risque de ne pas être enregistrée : "
                "le LMS a signalé une erreur ({error}).",
                "cmi5_error": "Votre progression risque de ne pas être enregistrée : "
                "le LMS ne l’a pas acceptée ({what}).",
                "done": "Terminé : votre résultat est enregistré.",
                "done_return": "Terminé : votre résultat est enregistré. "
                "Quitter vous ramène au cours.",
                "closed": "Votre session est terminée : vous pouvez fermer cette fenêtre.",
            }
        ),
        "de": MappingProxyType(
            {
                "previous": "Zurück",
                "next": "Weiter",
                "pages": "Seiten",
                "exit": "Beenden",
                "position": "Seite {n} von {total}",
                "seen": "gelesen",
                "outside": "in einer anderen Einheit",
                "resume": "Weiter, wo Sie aufgehört haben: Seite {n} von {total}.",
                "scored": "Sie haben {raw}/{max} in „{quiz}“ erreicht.",
            }
        ),
        "es": MappingProxyType(
            {
                "previous": "Anterior",
                "next": "Siguiente",
                "pages": "Páginas",
                "exit": "Salir",
                "position": "Página {n} de {total}",
                "seen": "vista",
                "outside": "en otra unidad",
                "resume": "Continúe donde lo dejó: página {n} de {total}.",
                "scored": "Obtuvo {raw}/{max} en «{quiz}».",
            }
        ),
    }
)


def words(language: str) -> dict[str, str]:
    """Every word of the bar in `language` ("fr", "fr-CA"…), English where it has none."""
    code = language.strip().lower().replace("_", "-")
    own = CATALOGUE.get(code) or CATALOGUE.get(code.split("-")[0]) or ENGLISH
    return {key: own.get(key, english) for key, english in ENGLISH.items()}
