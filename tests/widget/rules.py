"""amoCRM's rules for a widget, each with the published requirement it comes from.

The tests of the built archive (tests/widget/test_archive.py) and of the
widget running in a host page (tests/browser/test_widget.py) name the rule
they check by its key here; docs/amocrm.md lists the same rules with the same
quotes, and a test keeps the two in step. Sources are amoCRM's developer
docs (www.amocrm.ru/developers/content/...) and, where those are silent, the
same platform's international docs (developers.kommo.com).
"""

from __future__ import annotations

from dataclasses import dataclass

DOCS = "https://www.amocrm.ru/developers/content"


@dataclass(frozen=True)
class Rule:
    says: str  # the rule, in the project's words
    source: str
    quote: str  # the requirement, verbatim


RULES = {
    "tour-images": Rule(
        "Each language of the widget has its own tour images, 1188×616 px, "
        "not animated, with texts in that language.",
        f"{DOCS}/integrations/requirements",
        "Размеры изображений: для тура – 1188 на 616px",
    ),
    "tour-per-language": Rule(
        "The tour lists images per language, and an image with text shows "
        "that language's text.",
        f"{DOCS}/integrations/requirements",
        "Если изображения интеграции (логотип, тур) для английского, испанского "
        "и португальского языков, содержат текст, он должен быть на "
        "соответствующем языке.",
    ),
    "image-weight": Rule(
        "No image in the archive is over 300 KB.",
        f"{DOCS}/integrations/structure",
        "Размер каждого файла не должен превышать 300 КБ.",
    ),
    "not-animated": Rule(
        "Logos and tour images are still pictures.",
        f"{DOCS}/integrations/requirements",
        "Изображения, логотипы, а также иконки интеграции не должны быть "
        "анимированными.",
    ),
    "no-unused-files": Rule(
        "The archive holds only what the widget uses: no logo_dp.png without "
        "the digital_pipeline location, no stray scripts or images.",
        f"{DOCS}/integrations/requirements",
        "Перед загрузкой виджета не забудьте удалить лишние файлы, картинки, "
        "скрипты и прочее, не используемое в работе интеграции. В архиве их быть "
        "не должно.",
    ),
    "required-files": Rule(
        "manifest.json, i18n/*.json and the five logos are in the archive, at "
        "the sizes of the structure docs.",
        f"{DOCS}/integrations/requirements",
        "Список обязательных файлов, которые должен содержать архив widget.zip",
    ),
    "text-encoding": Rule(
        "Text files are UTF-8 without a BOM, with Unix line ends.",
        f"{DOCS}/integrations/requirements",
        "Все текстовые файлы (.js, .css, .json, .md, etc…) должны быть в кодировке "
        "UTF-8 без BOM",
    ),
    "manifest-fields": Rule(
        "The manifest has every required field, the integrator's support "
        "contacts and the tour switched on.",
        f"{DOCS}/integrations/structure",
        "Ссылка на поддержку интеграции (обязательно)",
    ),
    "only-used-locations": Rule(
        "The manifest names only the locations the script works in.",
        f"{DOCS}/integrations/requirements",
        "Не нужно указывать области видимости в манифесте (в параметре "
        '"locations"), которые вы не используете в интеграции.',
    ),
    "i18n-same-structure": Rule(
        "Every language file has the same keys.",
        f"{DOCS}/integrations/structure",
        "Если используется несколько локализаций, то необходимо, чтобы файлы были "
        "одинаковыми по структуре.",
    ),
    "i18n-language": Rule(
        "en.json holds English only and names no .ru domain.",
        f"{DOCS}/integrations/requirements",
        "в файле i18n/en.json не должно быть текстов на русском языке, а также "
        "упоминания .ru доменов.",
    ),
    "clean-script": Rule(
        "script.js has no alert, confirm or eval, no console output but "
        "console.debug and console.trace, and loads no script by a tag.",
        f"{DOCS}/integrations/requirements",
        "Использование eval не допускается",
    ),
    "failure-message": Rule(
        "When the widget cannot do its work it says why, and gives the "
        "integrator's contacts (the manifest's `support`).",
        f"{DOCS}/integrations/requirements",
        "При сбое или во внештатных ситуациях, для оповещения пользователей должно "
        "выводиться сообщение с причиной возникновения ситуации и контактными "
        "данными Интегратора.",
    ),
    "language-from-app": Rule(
        "The widget speaks the language of the user's profile, APP.lang_id, "
        "and does not read the deprecated AMOCRM object.",
        f"{DOCS}/web_sdk/env_variables",
        "В свойстве хранится буквенный код языка, установленного в профиле "
        "пользователя.",
    ),
    "own-area-only": Rule(
        "The widget changes nothing outside its own area: its block of the "
        "right column, amoCRM's modal window it opens (lib/components/base/"
        "modal), its settings window and its advanced settings page. Nothing "
        "is appended to document.body.",
        f"{DOCS}/integrations/requirements",
        "Интеграция не должна изменять интерфейсы, которые не включены в "
        "разрешенный список.",
    ),
    "modal-window": Rule(
        "A window the widget opens is amoCRM's own modal, the widget drawing "
        "only into its body.",
        "https://developers.kommo.com/docs/modules",
        "One of the most frequently utilized features is the modal window, which "
        "is located in the lib/components/base/modal module.",
    ),
    "exact-origin": Rule(
        "The widget answers a frame's postMessage only when it comes from the "
        "backend's exact origin: the answer carries a session token.",
        f"{DOCS}/integrations/requirements",
        "предотвращать ее несанкционированное использование, раскрытие или "
        "доступ к ней третьих лиц.",
    ),
}
