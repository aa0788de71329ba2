"""Makes infusion-leaflet.docx with python-docx (run once: .venv/bin/python tests/data/import/make_docx.py).

A Word leaflet as clinic staff write one: a Title, Heading 1/2 styles, bulleted and numbered
lists, a paragraph broken by a manual line break, and the file's own title in its properties.
"""
from pathlib import Path

import docx

document = docx.Document()
document.core_properties.title = "Home IVIG Infusions: A Patient Leaflet"
document.core_properties.author = "Riverside Nursing Team"
document.add_paragraph("Home IVIG Infusions", style="Title")
document.add_paragraph(
    "Some patients can have their immunoglobulin infusions at home. A nurse from our home "
    "infusion team visits you for the first few infusions and stays with you the whole time.")
document.add_heading("Before the nurse arrives", level=1)
document.add_paragraph("Please get these ready:")
for item in ("a table near a comfortable chair", "your medicine, taken out of the fridge an hour before",
             "your infusion diary"):
    document.add_paragraph(item, style="List Bullet")
document.add_heading("During the infusion", level=1)
paragraph = document.add_paragraph("The nurse checks your temperature, pulse and blood pressure")
paragraph.add_run().add_break()
paragraph.add_run("every thirty minutes. Tell the nurse at once if you feel unwell.")
document.add_heading("After the infusion", level=2)
document.add_paragraph("If you have a headache after the infusion:")
for item in ("drink plenty of water", "rest in a quiet room", "take the pain relief your doctor advised"):
    document.add_paragraph(item, style="List Number")
document.save(Path(__file__).with_name("infusion-leaflet.docx"))
