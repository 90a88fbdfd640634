"""Small PDFs made on the fly for tests: a valid one, the bad files of the upload corpus, and the PDFs
with active content that ``check_pdf`` refuses (made with pikepdf, one per kind); and the text of a PDF
the app rendered."""

import io

import pikepdf
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader, PdfWriter


def pdf_bytes(pages: int = 1, *, password: str | None = None) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if password:
        writer.encrypt(password)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_text(content: bytes) -> str:
    """The PDF's text with runs of whitespace (line breaks included) reduced to one space."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


def pdf_upload(name: str = "letter.pdf", content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content if content is not None else pdf_bytes(), content_type="application/pdf")


# --- PDFs made with pikepdf: each one page, plain but for what its name says -----------------------------------

def _javascript(code: str = "app.alert('hi')") -> pikepdf.Dictionary:
    return pikepdf.Dictionary(Type=pikepdf.Name.Action, S=pikepdf.Name.JavaScript, JS=pikepdf.String(code))


def _link(pdf: pikepdf.Pdf, action: pikepdf.Dictionary) -> None:
    """A link annotation over the page that runs ``action`` when clicked."""
    annotation = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[50, 50, 200, 80], Border=[0, 0, 0], A=action))
    pdf.pages[0].obj.Annots = pikepdf.Array([annotation])


def _signature_field(pdf: pikepdf.Pdf) -> None:
    """An /AcroForm with a signed-looking /Sig field and its widget: what a digitally signed letter has."""
    signature = pikepdf.Dictionary(
        Type=pikepdf.Name.Sig, Filter=pikepdf.Name("/Adobe.PPKLite"), SubFilter=pikepdf.Name("/adbe.pkcs7.detached"),
        ByteRange=[0, 100, 200, 300], Contents=pikepdf.String(b"\x00" * 64), Name=pikepdf.String("A. Partner"),
        M=pikepdf.String("D:20250601120000+02'00'"),
    )
    field = pdf.make_indirect(pikepdf.Dictionary(
        FT=pikepdf.Name.Sig, T=pikepdf.String("Signature1"), V=pdf.make_indirect(signature),
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, Rect=[0, 0, 0, 0], F=132, P=pdf.pages[0].obj,
    ))
    pdf.pages[0].obj.Annots = pikepdf.Array([field])
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]), SigFlags=3)


def _javascript_open(pdf):
    pdf.Root.OpenAction = _javascript()


def _javascript_names(pdf):
    tree = pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("init"), pdf.make_indirect(_javascript())]))
    pdf.Root.Names = pikepdf.Dictionary(JavaScript=tree)


def _javascript_link(pdf):
    _link(pdf, _javascript())


def _page_open_action(pdf):
    # The page's "on open" trigger: a URI fetched without a click (it tells a server the file was opened).
    pdf.pages[0].obj.AA = pikepdf.Dictionary(O=pikepdf.Dictionary(S=pikepdf.Name.URI,
                                                                  URI=pikepdf.String("https://example.org/t")))


def _launch(pdf):
    _link(pdf, pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe"),
                                  Win=pikepdf.Dictionary(F=pikepdf.String("cmd.exe"))))


def _submit_form(pdf):
    _link(pdf, pikepdf.Dictionary(S=pikepdf.Name.SubmitForm, F=pikepdf.String("https://example.org/collect")))


def _embedded_file(pdf):
    pdf.attachments["invoice.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00", filename="invoice.exe")


def _file_attachment_annotation(pdf):
    spec = pikepdf.AttachedFileSpec(pdf, b"hidden", filename="notes.txt")
    annotation = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.FileAttachment, Rect=[50, 50, 70, 70], FS=spec.obj))
    pdf.pages[0].obj.Annots = pikepdf.Array([annotation])


def _xfa(pdf):
    xfa = pdf.make_stream(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'/>")
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([]), XFA=xfa)


def _rich_media(pdf):
    annotation = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.RichMedia, Rect=[50, 50, 300, 300]))
    pdf.pages[0].obj.Annots = pikepdf.Array([annotation])


def _open_at_first_page(pdf):
    # What many editors write: open at page 1, fitted to the window. Navigation, not active content.
    pdf.Root.OpenAction = pikepdf.Array([pdf.pages[0].obj, pikepdf.Name.Fit])


def _web_link(pdf):
    # A link to the partner institution's site, followed only when clicked.
    _link(pdf, pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://www.example.edu/")))


def _restricted(pdf):
    pass  # saved with an owner password below: it opens without one, printing and copying are restricted


HOSTILE = {
    # name: (how to make it, the words the refusal must use)
    "javascript-open-action": (_javascript_open, "JavaScript and an automatic action (run on opening, closing or printing)"),
    "javascript-name-tree": (_javascript_names, "JavaScript"),
    "javascript-link": (_javascript_link, "JavaScript"),
    "page-open-action": (_page_open_action, "an automatic action (run on opening, closing or printing)"),
    "launch-action": (_launch, "a launch action (it starts a program or opens a file)"),
    "submit-form": (_submit_form, "an action that sends data or opens another document"),
    "embedded-file": (_embedded_file, "embedded files"),
    "file-attachment-annotation": (_file_attachment_annotation, "embedded files"),
    "xfa-form": (_xfa, "an XFA form"),
    "rich-media": (_rich_media, "multimedia content"),
}
PLAIN = {
    "signed-looking": _signature_field,
    "open-at-first-page": _open_at_first_page,
    "web-link": _web_link,
    "owner-password-only": _restricted,
}


def pikepdf_bytes(build=None, *, owner_password: str = "") -> bytes:
    """A one-page PDF, changed by ``build(pdf)`` before it is saved."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    if build is not None:
        build(pdf)
    buffer = io.BytesIO()
    encryption = pikepdf.Encryption(owner=owner_password, user="", allow=pikepdf.Permissions(extract=False,
                                    modify_other=False)) if owner_password else False
    pdf.save(buffer, encryption=encryption)
    return buffer.getvalue()


def hostile_pdf(kind: str) -> bytes:
    return pikepdf_bytes(HOSTILE[kind][0])


def plain_pdf(kind: str) -> bytes:
    return pikepdf_bytes(PLAIN[kind], owner_password="owner" if kind == "owner-password-only" else "")


def hostile_message(kind: str) -> str:
    return (f"This PDF contains {HOSTILE[kind][1]}. Such files are refused for safety: print or export it to a "
            'plain PDF (e.g. with "Print to PDF") and upload it again.')
