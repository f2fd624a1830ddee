// Common English first names and surnames (US/UK): the fixed lexicon pii_names.ts counts as names
// wherever they appear; names outside it need a cue of the text (see pii_names.ts).
// Names that are also everyday English words and often start a sentence are left out on purpose
// (Will, May, June, April, August, Mark, Bill, Rose, Hope, Grace, Joy, Faith, Art, Sue, Frank,
// Pat, Ray, Guy, Dawn, Young, Long, King, Little, White, Black, Green, Gray, Hall, Hill, Wood,
// Cook, Baker, Bell, Price, Rice, Stone, Lane, Page, Ward, Hunt, Read, Rich, Summer), since every
// Title-case occurrence of a listed word counts as a name.

export const FIRST_NAMES: readonly string[] = [
  // male
  'James', 'John', 'Robert', 'Michael', 'William', 'David', 'Richard', 'Joseph', 'Thomas',
  'Charles', 'Christopher', 'Daniel', 'Matthew', 'Anthony', 'Donald', 'Steven', 'Paul', 'Andrew',
  'Joshua', 'Kenneth', 'Kevin', 'Brian', 'George', 'Timothy', 'Ronald', 'Edward', 'Jason',
  'Jeffrey', 'Ryan', 'Jacob', 'Gary', 'Nicholas', 'Eric', 'Jonathan', 'Stephen', 'Larry',
  'Justin', 'Scott', 'Brandon', 'Benjamin', 'Samuel', 'Gregory', 'Alexander', 'Patrick', 'Jack',
  'Dennis', 'Jerry', 'Tyler', 'Aaron', 'Jose', 'Adam', 'Nathan', 'Henry', 'Peter', 'Zachary',
  'Douglas', 'Harold', 'Kyle', 'Noah', 'Oliver', 'Harry', 'Charlie', 'Tom', 'Tim', 'Ben', 'Sam',
  'Alex', 'Max', 'Leo', 'Oscar', 'Arthur', 'Alfie', 'Freddie', 'Theo', 'Liam', 'Ethan', 'Lucas',
  'Mason', 'Logan', 'Owen', 'Luke', 'Simon', 'Ian', 'Neil', 'Stuart', 'Graham', 'Colin', 'Martin',
  'Philip', 'Nigel', 'Gavin', 'Dylan', 'Connor', 'Sean', 'Kieran', 'Mohammed', 'Muhammad', 'Ali',
  'Bob', 'Jim', 'Joe', 'Mike', 'Steve', 'Dave', 'Chris', 'Matt', 'Dan', 'Tony', 'Jake', 'Ted',
  // female
  'Mary', 'Patricia', 'Jennifer', 'Linda', 'Elizabeth', 'Barbara', 'Susan', 'Jessica', 'Sarah',
  'Karen', 'Nancy', 'Lisa', 'Betty', 'Margaret', 'Sandra', 'Ashley', 'Kimberly', 'Emily', 'Donna',
  'Michelle', 'Dorothy', 'Carol', 'Amanda', 'Melissa', 'Deborah', 'Stephanie', 'Rebecca',
  'Sharon', 'Laura', 'Cynthia', 'Kathleen', 'Amy', 'Shirley', 'Angela', 'Helen', 'Anna', 'Brenda',
  'Pamela', 'Nicole', 'Emma', 'Samantha', 'Katherine', 'Christine', 'Debra', 'Rachel', 'Catherine',
  'Carolyn', 'Janet', 'Ruth', 'Maria', 'Heather', 'Diane', 'Virginia', 'Julie', 'Joyce',
  'Victoria', 'Olivia', 'Kelly', 'Christina', 'Lauren', 'Joan', 'Evelyn', 'Judith', 'Megan',
  'Andrea', 'Cheryl', 'Hannah', 'Jacqueline', 'Martha', 'Gloria', 'Teresa', 'Ann', 'Anne', 'Sara',
  'Madison', 'Frances', 'Kathryn', 'Janice', 'Jean', 'Abigail', 'Alice', 'Judy', 'Sophia', 'Julia',
  'Amelia', 'Isla', 'Ava', 'Mia', 'Isabella', 'Lily', 'Ella', 'Chloe', 'Sophie', 'Lucy',
  'Charlotte', 'Poppy', 'Ruby', 'Holly', 'Jane', 'Kate', 'Claire', 'Fiona', 'Gemma', 'Zoe', 'Tina',
  'Tracy', 'Jenny', 'Ellie', 'Freya', 'Molly', 'Daisy', 'Sally', 'Wendy', 'Diana',
];

export const SURNAMES: readonly string[] = [
  'Smith', 'Johnson', 'Williams', 'Jones', 'Brown', 'Miller', 'Davis', 'Garcia', 'Rodriguez',
  'Wilson', 'Martinez', 'Anderson', 'Taylor', 'Thomas', 'Hernandez', 'Moore', 'Jackson',
  'Thompson', 'Lopez', 'Lee', 'Gonzalez', 'Harris', 'Clark', 'Lewis', 'Robinson', 'Walker', 'Perez',
  'Allen', 'Sanchez', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Adams', 'Nelson', 'Mitchell',
  'Roberts', 'Carter', 'Phillips', 'Evans', 'Turner', 'Parker', 'Collins', 'Edwards', 'Stewart',
  'Morris', 'Murphy', 'Rogers', 'Morgan', 'Peterson', 'Cooper', 'Reed', 'Bailey', 'Kelly',
  'Howard', 'Cox', 'Richardson', 'Watson', 'Brooks', 'Bennett', 'James', 'Hughes', 'Sanders',
  'Myers', 'Foster', 'Powell', 'Jenkins', 'Perry', 'Russell', 'Sullivan', 'Butler', 'Barnes',
  'Fisher', 'Henderson', 'Coleman', 'Simmons', 'Patterson', 'Jordan', 'Reynolds', 'Hamilton',
  'Graham', 'Wallace', 'Campbell', 'Davies', 'Patel', 'Khan', 'Singh', 'Walsh', 'Murray',
  'Kennedy', 'Doe', 'Robertson', 'Thomson', 'MacDonald', 'McDonald', 'Fletcher', 'Chapman',
  'Lloyd', 'Harrison', 'Marshall', 'Ellis', 'Hunter', "O'Brien", "O'Connor", 'Gallagher',
  'Wilkinson', 'Atkinson', 'Shaw', 'Holmes', 'Palmer', 'Webb', 'Griffiths', 'Owens',
];

// Title-case words that the cue rules of pii_names.ts ("Hi X", "Thanks, X", "X wrote:", "From: X",
// "-- X", "X <x@y>") must not take for a name: function words, addressees of a whole list,
// greeting and mail-header words, days and months, role mailboxes, and company suffixes.
export const NOT_NAMES: readonly string[] = [
  'The', 'This', 'That', 'These', 'Those', 'There', 'Here', 'Then', 'Than', 'And', 'But', 'Or', 'Nor',
  'If', 'In', 'On', 'At', 'To', 'For', 'Of', 'By', 'With', 'From', 'As', 'Is', 'Are', 'Was', 'Be', 'It',
  'Its', 'We', 'You', 'He', 'She', 'They', 'Me', 'My', 'Our', 'Your', 'His', 'Her', 'Their', 'Us', 'Them',
  'All', 'Any', 'Some', 'No', 'Not', 'So', 'What', 'Who', 'Why', 'How', 'When', 'Where', 'Which', 'Yes',
  'Ok', 'Okay', 'Again', 'Also', 'Just', 'Very', 'Much', 'Many', 'More', 'Most', 'Please', 'Sorry',
  'Everyone', 'Everybody', 'Anyone', 'Folks', 'Guys', 'Gang', 'Team', 'People', 'Friends', 'Sir', 'Sirs',
  'Madam', 'Colleagues', 'World', 'Mate', 'Mates', 'Lads', 'List', 'Listers', 'Members', 'Subscribers',
  'Hi', 'Hello', 'Hey', 'Dear', 'Thanks', 'Thank', 'Regards', 'Cheers', 'Best', 'Kind', 'Warm',
  'Sincerely', 'Yours', 'Love', 'Greetings', 'Morning', 'Evening', 'Afternoon', 'Night',
  'Re', 'Fw', 'Fwd', 'Subject', 'Original', 'Message', 'Forwarded', 'Sent', 'Date', 'Reply', 'Wrote',
  'Mailing', 'Mail', 'Email', 'Admin', 'Administrator', 'Support', 'Webmaster', 'Postmaster', 'Root',
  'Anonymous', 'Unknown', 'User', 'Users', 'Customer', 'Customers', 'Service', 'Services', 'Sales',
  'Info', 'Help', 'Contact', 'Office', 'News', 'Newsletter', 'Editor', 'Editors', 'Staff', 'Owner',
  'Request', 'Daemon', 'Nobody', 'Security', 'Marketing', 'Billing', 'Feedback', 'Abuse', 'Noreply',
  'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday',
  'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun',
  'January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
  'November', 'December', 'Jan', 'Feb', 'Mar', 'Apr', 'Jun', 'Jul', 'Aug', 'Sep', 'Sept', 'Oct', 'Nov', 'Dec',
  'Inc', 'Ltd', 'Corp', 'Co', 'Company', 'Group', 'University', 'College', 'Street', 'Road', 'Avenue',
  'Square', 'Station', 'County', 'City', 'Park', 'Tech', 'Technology',
  // Seen in signatures and quote lines of list mail ("-- Irish Linux Users' Group", "Quoting X").
  'Linux', 'Unix', 'Windows', 'Microsoft', 'Debian', 'Open', 'Source', 'Free', 'Software', 'Computer',
  'Systems', 'Project', 'Internet', 'Online', 'Irish', 'English', 'British', 'American', 'European',
  'Changes', 'Generated', 'Randomly', 'Quoting', 'Paging', 'Forwarding',
];

// Words inside a personal name that are not names by themselves: titles, initials aside, and
// surname particles ("Theo Van Dinter", "Niall O Broin", "Diarmaid Mac Mathuna").
export const NAME_PARTICLES: readonly string[] = [
  'Mr', 'Mrs', 'Ms', 'Miss', 'Dr', 'Prof', 'van', 'von', 'de', 'der', 'den', 'da', 'di', 'du', 'la', 'le',
  'del', 'della', 'dos', 'das', 'Van', 'Von', 'De', 'Der', 'Den', 'Da', 'Di', 'Du', 'La', 'Le', 'Del', 'O',
  'Mac', 'Ni', 'Nic',
];
