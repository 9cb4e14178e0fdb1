"""Everyday English words, listed by us, that every tokenizer Taletree trains learns whole
(engine/training/tokenizers.py): a corpus never holds all of a writer's ordinary words, and a
word split into many pieces reads and copies worse and fills the window sooner."""

COMMON_WORDS = """
a about above across act add afraid after afternoon again against age ago agree air all allow
almost alone along already also always am among an and angry animal another answer any anyone
anything appear apple are arm around arrive art as ask asleep at aunt autumn away baby back bad
bag ball bank bath be beach bear beautiful because become bed bedroom been before began begin
behind believe bell below beside best better between big bird birthday bit bite black blood blow
blue board boat body bone book born both bottom box boy brain bread break breakfast breath bridge
bright bring brother brown build burn bus busy but buy by cake call came can car card care carry
case cat catch caught chair chance change cheap check cheese child children choose church city
class clean clear climb clock close cloth clothes cloud coat coffee cold colour come cook cool
corner could count country course cousin cover cow cross crowd cry cup cut dad dance danger dark
daughter day dead dear death decide deep desk did die different dinner dirty do doctor does dog
done door down drank draw dream dress drink drive drop dry during each ear early earth east easy
eat edge egg eight either else empty end enough enter even evening ever every everyone everything
exactly except eye face fact fall family far farm fast fat father fear feel feet fell felt few
field fight fill finally find fine finger finish fire first fish five floor flower fly follow
food foot for forest forget fork found four free fresh friend from front fruit full fun funny
game garden gate gave get girl give glad glass go god gold gone good got grandfather
grandmother grass great green grey
ground group grow guess had hair half hall hand happen happy hard has hat hate have he head hear
heard heart heavy held hello help her here herself hid hide high hill him himself his hit hold
hole holiday home hope horse hospital hot hour house how however huge hundred hungry hurry hurt
husband i ice idea if ill important in inside into is island it its itself job join joke jump
just keep kept key kid kill kind king kiss kitchen knee knew knife knock know lady lake land
language large last late laugh lay lead learn least leave led left leg less let letter lie life
lift light like line lip list listen little live lock long look lose lost lot loud love low lucky
lunch machine mad made make man many map mark market married matter may maybe me meal mean meet
men middle might mile milk mind minute miss mistake moment money month moon more morning most
mother mountain mouth move much mum music must my myself name near neck need neighbour never new
news next nice night nine no nobody noise none nor north nose not note nothing notice now number
nurse of off offer office often oh oil ok okay old on once one only open or orange order other
our out outside over own page paint pair paper parent park part party pass past path pay peace
pen people perhaps person pick picture piece place plan plant plate play please pocket point
police poor possible pound pour present pretty prince princess problem promise pull push put
queen question quick quiet quite rabbit rain raise ran rather reach read ready real really reason
red remember rest return rich ride right ring rise river road rock roof room round rule run sad
safe said sail same sand sat save saw say school sea seat second see seem seen sell send sent
serious seven shadow shake shall she sheep shelf ship shirt shoe shop short should shoulder shout
show shut sick side sign silence silly simple since sing sister sit six size skin sky sleep slow
small smell smile snow so soft soldier some someone something sometimes son song soon sorry sound
south space speak special spend spoke spring square stair stand star start station stay step
stick still stone stood stop storm story strange street strong student stupid such sudden sugar
summer sun supper suppose sure surprise sweet swim table tail take talk tall tea teach tear
teeth tell ten than thank that the their them then there these they thing think third this those
though thought three threw through throw ticket tie till time tiny tired to today together told
tomorrow tonight too took top touch towards town toy train tree trip trouble true trust truth try
turn twelve twenty twice two uncle under understand until up upon upstairs us use usual very
village visit voice wait wake walk wall want war warm was wash watch water wave way we wear
weather week well went were west wet what wheel when where whether which while whisper white who
whole why wide wife wild will win wind window wine winter wish with without woke woman women
wonder wood word work world worry would write wrong yard year yellow yes yesterday yet you young
your yourself
""".split()
