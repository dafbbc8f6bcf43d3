import PDFDocument from 'pdfkit';
import { laneColour, type ReportDocument, type ReportTable } from './report.ts';

/*
 * The incident report as PDF (pdfkit): A4, the standard Helvetica fonts (no font files to ship),
 * the timeline picture drawn as vectors from the same layout the HTML's SVG uses, tables as rows
 * of clipped cells. Helvetica covers Windows-1252 (Western European languages); any other
 * character is written as "?" and the report says so in its footer, rather than failing.
 */

const MARGIN = 40;
const A4 = { width: 595.28, height: 841.89 };
const CONTENT = A4.width - 2 * MARGIN;

/** What Helvetica's WinAnsi encoding has beyond Latin-1. */
const WIN_ANSI_EXTRA = '€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ';
function winAnsi(s: string): { text: string; replaced: number } {
  let replaced = 0;
  const text = [...s]
    .map((c) => {
      const code = c.codePointAt(0)!;
      if ((code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_EXTRA.includes(c)) return c;
      if (c === '\n') return c;
      if (c === '→') return '->';
      replaced += 1;
      return '?';
    })
    .join('');
  return { text, replaced };
}

export async function reportPdf(doc: ReportDocument): Promise<Buffer> {
  const pdf = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    info: { Title: doc.title, Subject: 'killswitch incident report', Creator: 'killswitch', Producer: 'killswitch (pdfkit)' },
    bufferPages: true,
  });
  const chunks: Buffer[] = [];
  pdf.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  // Each text drawn is converted once (counted), then drawn; measuring converts without counting.
  const replacedIn = new Map<string, number>();
  const t = (s: string) => {
    const w = winAnsi(s);
    if (w.replaced) replacedIn.set(s, w.replaced);
    return w.text;
  };
  const room = (height: number) => {
    if (pdf.y + height > A4.height - MARGIN - 20) pdf.addPage();
  };

  pdf.font('Helvetica-Bold').fontSize(18).text(t(doc.title), { width: CONTENT });
  pdf.moveDown(0.2).font('Helvetica').fontSize(9).fillColor('#4b5563').text(t(doc.subtitle), { width: CONTENT }).fillColor('#111827');

  for (const section of doc.sections) {
    room(60);
    pdf.moveDown(1).font('Helvetica-Bold').fontSize(13).text(t(section.title), MARGIN, pdf.y, { width: CONTENT });
    pdf.moveDown(0.3).font('Helvetica').fontSize(9);
    for (const [k, v] of section.fields ?? []) {
      const y = pdf.y;
      room(14);
      pdf.font('Helvetica-Bold').text(t(k), MARGIN, y, { width: 150 });
      const labelBottom = pdf.y;
      pdf.font('Helvetica').text(t(v), MARGIN + 160, y, { width: CONTENT - 160 });
      pdf.y = Math.max(pdf.y, labelBottom) + 2;
    }
    if (section.picture) drawPicture(pdf, doc, t);
    for (const p of section.paragraphs ?? []) {
      room(24);
      pdf.font('Helvetica').fontSize(9).text(t(p), MARGIN, pdf.y, { width: CONTENT });
      pdf.moveDown(0.4);
    }
    if (section.table) drawTable(pdf, section.table, t, room);
  }

  const replaced = [...replacedIn.values()].reduce((a, b) => a + b, 0);
  const pages = pdf.bufferedPageRange();
  for (let i = 0; i < pages.count; i++) {
    pdf.switchToPage(pages.start + i);
    const footer = `${doc.title} · page ${i + 1} of ${pages.count}${replaced ? ` · ${replaced} character(s) outside Windows-1252 shown as "?"; the JSON (-o json) has them` : ''}`;
    // Below the bottom margin pdfkit would start a page for the footer: lift the margin while writing it.
    const bottom = pdf.page.margins.bottom;
    pdf.page.margins.bottom = 0;
    pdf
      .font('Helvetica')
      .fontSize(7)
      .fillColor('#6b7280')
      .text(winAnsi(footer).text, MARGIN, A4.height - MARGIN + 10, { width: CONTENT, lineBreak: false })
      .fillColor('#111827');
    pdf.page.margins.bottom = bottom;
  }
  pdf.end();
  return done;
}

function drawPicture(pdf: PDFKit.PDFDocument, doc: ReportDocument, t: (s: string) => string): void {
  const layout = doc.layout;
  const scale = CONTENT / layout.width;
  const height = layout.height * scale;
  if (pdf.y + height > A4.height - MARGIN - 20) pdf.addPage();
  const top = pdf.y + 4;
  const X = (x: number) => MARGIN + x * scale;
  const Y = (y: number) => top + y * scale;
  pdf.save();
  for (const lane of layout.lanes) {
    pdf
      .font('Helvetica')
      .fontSize(8)
      .fillColor('#111827')
      .text(t(lane.name), X(8), Y(lane.y) - 4, { lineBreak: false });
    pdf.moveTo(X(layout.left), Y(lane.y)).lineTo(X(layout.right), Y(lane.y)).lineWidth(0.5).strokeColor('#d1d5db').stroke();
  }
  for (const m of layout.marks) pdf.circle(X(m.x), Y(m.y), 3.2).fillColor(laneColour(m.lane)).fill();
  pdf.moveTo(X(layout.left), Y(layout.axisY)).lineTo(X(layout.right), Y(layout.axisY)).lineWidth(0.7).strokeColor('#111827').stroke();
  for (const tick of layout.ticks) {
    pdf
      .moveTo(X(tick.x), Y(layout.axisY))
      .lineTo(X(tick.x), Y(layout.axisY + 6))
      .stroke();
    const label = t(tick.label);
    const w = pdf.widthOfString(label);
    const x = tick.anchor === 'start' ? X(tick.x) : tick.anchor === 'end' ? X(tick.x) - w : X(tick.x) - w / 2;
    pdf
      .fontSize(7)
      .fillColor('#111827')
      .text(label, x, Y(layout.axisY + 12), { lineBreak: false });
  }
  pdf.restore();
  pdf.x = MARGIN;
  pdf.y = top + height + 6;
}

function drawTable(pdf: PDFKit.PDFDocument, table: ReportTable, t: (s: string) => string, room: (h: number) => void): void {
  // Column widths by content: each column is at least as wide as its longest word (up to 30
  // characters: ids and step types are never broken), and shares the rest by its longest cell.
  pdf.font('Helvetica').fontSize(7.5);
  const cells = (i: number) => [table.columns[i]!, ...table.rows.map((r) => r[i] ?? '')];
  const minimum = table.columns.map((_, i) =>
    Math.max(
      30,
      ...cells(i)
        .flatMap((c) => c.split(/\s+/))
        .map((w) => pdf.widthOfString(t(w.slice(0, 30))) + 6),
    ),
  );
  const longest = table.columns.map((_, i) => Math.min(80, Math.max(...cells(i).map((c) => c.length))));
  const spare = Math.max(0, CONTENT - minimum.reduce((a, b) => a + b, 0));
  const total = longest.reduce((a, b) => a + b, 0) || 1;
  const widths = minimum.map((m, i) => m + (longest[i]! / total) * spare);
  const factor = CONTENT / widths.reduce((a, b) => a + b, 0);
  const cols = widths.map((w) => w * factor);
  const row = (cells: string[], bold: boolean) => {
    pdf.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(7.5);
    const heights = cells.map((c, i) => pdf.heightOfString(winAnsi(c).text, { width: cols[i]! - 4 }));
    const h = Math.min(120, Math.max(10, ...heights)) + 3;
    room(h);
    const y = pdf.y;
    let x = MARGIN;
    cells.forEach((c, i) => {
      pdf.text(t(c), x + 2, y + 1.5, { width: cols[i]! - 4, height: h - 2, ellipsis: true });
      x += cols[i]!;
    });
    pdf
      .moveTo(MARGIN, y + h)
      .lineTo(MARGIN + CONTENT, y + h)
      .lineWidth(0.3)
      .strokeColor('#e5e7eb')
      .stroke();
    pdf.x = MARGIN;
    pdf.y = y + h;
  };
  row(table.columns, true);
  for (const r of table.rows) row(r, false);
  pdf.moveDown(0.5);
}
